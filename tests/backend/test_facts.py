"""The contracts' facts have one home: the Solidity sources. The generated Python module and the
manifest's facts must agree with them, and a change in a contract must show up as drift."""

import shutil

import pytest

from backend.core import enums, facts
from backend.core.codec import (
    LeaseItem,
    join_words,
    pack_credit_word,
    pack_lease_word,
    split_words,
    unpack_credit_word,
    unpack_lease_word,
)
from backend.core.enums import LeaseStatus, ReceivableStatus, Refusal, RiskFlag, Role


@pytest.fixture(scope="module")
def read():
    return facts.read_facts()


def test_the_generated_module_matches_the_contracts(read):
    assert facts.ENUMS_MODULE.read_text() == facts.python_module(read)
    assert facts.main(["--check"]) == 0


def test_facts_come_from_the_solidity_source(read):
    assert read["enums"]["IReceivables.ReceivableStatus"][:2] == ["None", "Active"]
    assert read["constants"]["ROLE_BANK"] == 1
    assert read["constants"]["ALL_PARTICIPANT_ROLES"] == 127
    assert read["constants"]["ALL_RISK_FLAGS"] == 15
    assert read["constants"]["SETTLEMENT_DECIMALS"] == 6
    # every Python reader is the generated one
    assert [s.label for s in ReceivableStatus] == read["enums"]["IReceivables.ReceivableStatus"]
    assert [r.label for r in Refusal] == read["enums"]["IReceivables.Refusal"]
    assert [s.label for s in LeaseStatus] == read["enums"]["IEquipmentLease.LeaseStatus"]
    assert {f"ROLE_{r.name}": int(r) for r in Role} == {
        k: v for k, v in read["constants"].items() if k.startswith("ROLE_")
    }
    assert int(sum(RiskFlag)) == read["constants"]["ALL_RISK_FLAGS"]


def test_a_changed_contract_is_drift(tmp_path):
    """Append an enum member and add a role bit in a copy of the contracts: the module no longer matches."""
    shutil.copytree(facts.ROOT / "contracts", tmp_path / "contracts", ignore=shutil.ignore_patterns(".cache"))
    source = tmp_path / "contracts/interfaces/IReceivables.sol"
    text = source.read_text()
    source.write_text(text.replace("HolderIsDebtor //", "HolderIsDebtor,\n        Blacklisted //", 1))
    registry = tmp_path / "contracts/interfaces/IParticipantRegistry.sol"
    registry.write_text(registry.read_text() + "\nuint8 constant ROLE_AUDITOR = 1 << 7;\n")
    changed = facts.read_facts(tmp_path)
    assert changed["enums"]["IReceivables.Refusal"][-1] == "Blacklisted"
    module = facts.python_module(changed)
    assert module != facts.ENUMS_MODULE.read_text()
    assert 'BLACKLISTED = 10, "Blacklisted"' in module and "AUDITOR = 128" in module


def test_manifest_facts_are_the_generated_ones():
    found = facts.manifest_facts()
    assert found["enums"]["Refusal"] == [r.label for r in Refusal]
    assert found["flags"]["Role"] == {r.name: int(r) for r in Role}
    assert found["flags"]["RiskFlag"] == {"IDLE": 1, "GEOFENCE": 2, "FUEL": 4, "TAMPER": 8}
    assert found["constants"] == {"SETTLEMENT_DECIMALS": enums.SETTLEMENT_DECIMALS}


def test_enum_labels_round_trip():
    for enum in (ReceivableStatus, Refusal, LeaseStatus):
        for member in enum:
            assert enum.from_label(member.label) is member
    with pytest.raises(ValueError, match="not a Refusal"):
        Refusal.from_label("Bribed")


# --- the codec (the contracts' side of the round trip: tests/contracts/test_codec.py) -------------

MERCHANT = "0x00000000000000000000000000000000DeaDBeef"


def test_credit_words_round_trip_at_the_field_limits():
    for limit, score, rate in ((0, 0, 0), (2**64 - 1, 2**16 - 1, 2**16 - 1), (123_456, 812, 1_250)):
        update = unpack_credit_word(pack_credit_word(MERCHANT, limit, score, rate))
        assert (update.merchant, update.limit_whole, update.score, update.rate_bps) == (MERCHANT, limit, score, rate)
    for bad in ((2**64, 1, 1), (1, 2**16, 1), (1, 1, -1)):
        with pytest.raises(ValueError, match="does not fit"):
            pack_credit_word(MERCHANT, *bad)


def test_lease_words_round_trip_with_and_without_flags():
    for item in (
        LeaseItem(0, 0, 0, None),
        LeaseItem(2**64 - 1, 2**32 - 1, 2**64 - 1, RiskFlag(15)),
        LeaseItem(7, 3, 12_50, RiskFlag.FUEL | RiskFlag.IDLE),
        LeaseItem(7, 3, 12_50, RiskFlag(0)),
    ):
        word = pack_lease_word(item.lease_id, item.period, item.usage_hundredths, item.flags)
        assert unpack_lease_word(word) == item
    with pytest.raises(ValueError, match="not risk flags"):
        pack_lease_word(1, 0, 0, 16)
    with pytest.raises(ValueError, match="does not fit"):
        pack_lease_word(2**64, 0, 0)


def test_blobs_of_words():
    words = [pack_credit_word(MERCHANT, 1, 2, 3), 0, 2**256 - 1]
    assert split_words(join_words(words)) == words
    with pytest.raises(ValueError, match="multiple of 32"):
        split_words(b"\x00" * 33)
