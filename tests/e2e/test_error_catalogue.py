"""Every custom error any contract can revert with has a sentence in English and in Chinese in the
frontend's catalogue (frontend/js/i18n.js), with placeholders the error actually has."""

import re
from pathlib import Path

from backend.core.build import load_artifacts
from backend.core.config import Settings
from backend.services.deploy import STEPS

CATALOGUE = Path(__file__).resolve().parents[2] / "frontend" / "js" / "i18n.js"
# one line, or as biome wraps a long one: the name, then each sentence on its own line
ENTRY = re.compile(r'^  (\w+): \[\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)",?\s*\],$', re.M)


def test_every_contract_error_has_a_sentence_in_both_languages():
    text = CATALOGUE.read_text()
    errors_block = text[text.index("export const ERRORS") :]
    sentences = {name: (en, zh) for name, en, zh in ENTRY.findall(errors_block)}
    artifacts = load_artifacts(Settings())
    abi_errors = {
        item["name"]: {i["name"] for i in item["inputs"]}
        for step in STEPS
        for item in artifacts[step.name].abi
        if item["type"] == "error"
    }
    assert set(abi_errors) - set(sentences) == set(), "errors without a sentence"
    for name, inputs in abi_errors.items():
        for sentence in sentences[name]:
            assert sentence.strip(), name
            assert set(re.findall(r"\{(\w+)\}", sentence)) <= inputs, f"{name}: {sentence}"
        assert re.search(r"[\u4e00-\u9fff]", sentences[name][1]), f"{name}: the Chinese sentence is not Chinese"


WORD = re.compile(r'^  "(\w+)\.(\w+)": \[\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)",?\s*\],$', re.M)


def test_every_status_reason_role_and_flag_has_words_in_both_languages():
    """The page never shows an enum's Solidity name: each has words in English and in Chinese."""
    from backend.core import enums

    text = CATALOGUE.read_text()
    block = text[text.index("export const ENUM_WORDS") : text.index("export const ERRORS")]
    words = {(kind, name): (en, zh) for kind, name, en, zh in WORD.findall(block)}
    wanted = {
        (kind.__name__, member.label)
        for kind in (enums.LineStatus, enums.LeaseStatus, enums.ReceivableStatus, enums.Refusal, enums.IgnoredReason)
        for member in kind
        if member.label != "None"
    } | {(kind.__name__, member.name) for kind in (enums.Role, enums.RiskFlag) for member in kind}
    assert wanted - set(words) == set(), "names without words"
    for key, (en, zh) in words.items():
        assert en.strip() and re.search(r"[\u4e00-\u9fff]", zh), key
