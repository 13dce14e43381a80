import json
from dataclasses import replace
from pathlib import Path

import pytest

from backend.core.dev_accounts import dev_account
from oracles.credit.consent import (
    MAX_CONSENT_BYTES,
    Consent,
    ConsentError,
    Refusal,
    read_file,
    sign,
    to_document,
    verify,
)

MERCHANT, OTHER = dev_account(5), dev_account(6)
NOW = 1_800_000_000
CREDIT_LINE = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"  # this deployment's CreditLine
ELSEWHERE = "0x0165878A594ca255338adfa4d48449f69242Eb8F"  # another deployment's, on the same chain
NONCE = 3  # the merchant's consent nonce on the CreditLine now


@pytest.fixture
def consent():
    return Consent(
        merchant=MERCHANT.address,
        merchant_id="M000005",
        expires_at=NOW + 86_400,
        nonce=NONCE,
        chain_id=31337,
        credit_line=CREDIT_LINE,
    )


def check(consent, signature, *, nonce=NONCE):
    verify(consent, signature, now=NOW, chain_id=31337, credit_line=CREDIT_LINE, nonce=nonce)


def test_merchants_own_signature_is_accepted(consent):
    check(consent, sign(consent, MERCHANT))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"merchant_id": "M999999"}, "signed by"),  # the signed text differs from what is presented
        ({"nonce": NONCE - 1}, "revoked"),  # an earlier consent, voided by a revocation on chain
        ({"credit_line": ELSEWHERE}, "not this deployment"),
        ({"expires_at": NOW}, "expired"),
        ({"chain_id": 1}, "for chain 1"),
        ({"scope": "marketing"}, "does not cover"),
    ],
)
def test_altered_or_stale_consent_is_refused(consent, change, message):
    signature = sign(consent, MERCHANT)
    with pytest.raises(ConsentError, match=message):
        check(replace(consent, **change), signature)


def test_consent_signed_by_someone_else_is_refused(consent):
    with pytest.raises(ConsentError, match="not by the merchant"):
        check(consent, sign(consent, OTHER))


def test_garbage_signature_is_refused(consent):
    with pytest.raises(ConsentError, match="unreadable signature"):
        check(consent, "0x1234")


@pytest.mark.parametrize(
    "change",
    [{"expires_at": 10**80}, {"expires_at": NOW + 401 * 86_400}],
    ids=["expiry beyond uint64", "expiry beyond the horizon"],
)
def test_out_of_range_consent_is_refused_not_a_crash(consent, change):
    with pytest.raises(ConsentError) as caught:
        check(replace(consent, **change), sign(consent, MERCHANT))
    assert caught.value.reason == Refusal.OUT_OF_RANGE


@pytest.mark.parametrize(
    ("signed", "on_chain", "reason"),
    [
        (NONCE - 1, NONCE, Refusal.REVOKED),
        (NONCE + 1, NONCE, Refusal.WRONG_NONCE),
        (2**256 - 1, 0, Refusal.WRONG_NONCE),
    ],
    ids=["revoked", "ahead of the chain", "far ahead"],
)
def test_only_the_merchants_current_nonce_counts(consent, signed, on_chain, reason):
    """The CreditLine keeps each merchant's consent nonce; revoking moves it on, voiding every consent
    signed before, and a nonce it has not reached is no consent either."""
    presented = replace(consent, nonce=signed)
    with pytest.raises(ConsentError) as caught:
        check(presented, sign(presented, MERCHANT), nonce=on_chain)
    assert caught.value.reason == reason


def test_a_consent_for_another_deployment_is_refused(consent):
    """Signed by the merchant, for the same chain, but for another CreditLine: not this bank's consent."""
    elsewhere = replace(consent, credit_line=ELSEWHERE)
    with pytest.raises(ConsentError) as caught:
        check(elsewhere, sign(elsewhere, MERCHANT))
    assert caught.value.reason == Refusal.WRONG_CONTRACT


def test_a_year_long_consent_as_the_ui_asks_is_accepted(consent):
    year = replace(consent, expires_at=NOW + 365 * 86_400)
    check(year, sign(year, MERCHANT))


def document(consent, **changes):
    return {**to_document(consent, sign(consent, MERCHANT)), **changes}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (lambda c: document(c, nonce=-1), Refusal.OUT_OF_RANGE),
        (lambda c: document(c, expiresAt=10**80), Refusal.OUT_OF_RANGE),
        (lambda c: document(c, chainId=-1), Refusal.OUT_OF_RANGE),
        (lambda c: document(c, nonce=1.0), Refusal.WRONG_TYPE),
        (lambda c: document(c, nonce=True), Refusal.WRONG_TYPE),
        (lambda c: document(c, nonce="0x1"), Refusal.WRONG_TYPE),
        (lambda c: document(c, chainId=None), Refusal.WRONG_TYPE),
        (lambda c: document(c, merchant="0x1234"), Refusal.WRONG_TYPE),
        (lambda c: document(c, merchant=["0x1234"]), Refusal.WRONG_TYPE),
        (lambda c: document(c, verifyingContract="0x12"), Refusal.WRONG_TYPE),
        (lambda c: {k: v for k, v in document(c).items() if k != "verifyingContract"}, Refusal.MISSING_FIELD),
        (lambda c: document(c, merchantId=""), Refusal.OUT_OF_RANGE),
        (lambda c: document(c, signature=12), Refusal.WRONG_TYPE),
        (lambda c: {k: v for k, v in document(c).items() if k != "scope"}, Refusal.MISSING_FIELD),
        (lambda c: [document(c)], Refusal.NOT_OBJECT),
        (lambda c: '{"merchant": ' + "[" * 5_000 + "]" * 5_000 + "}", Refusal.TOO_DEEP),
        (lambda c: "[" * 16_000, Refusal.TOO_DEEP),
        (lambda c: '{"nonce": ' + "9" * 5_000 + "}", Refusal.NOT_JSON),
        (lambda c: '{"merchant": "[[[[", ', Refusal.NOT_JSON),  # brackets in strings are not nesting
        (lambda c: b"\xff\xfe{}", Refusal.UNREADABLE),
    ],
)
def test_malformed_consent_files_are_refused_with_a_reason(consent, tmp_path, content, reason):
    value = content(consent)
    path = tmp_path / "consent.json"
    if isinstance(value, bytes):
        path.write_bytes(value)
    else:
        path.write_text(value if isinstance(value, str) else json.dumps(value))
    with pytest.raises(ConsentError) as caught:
        read_file(path)
    assert caught.value.reason == reason, caught.value


def test_a_well_formed_consent_file_reads_back(consent, tmp_path):
    path = tmp_path / "consent.json"
    path.write_text(json.dumps(document(consent, nonce=str(2**255))))  # a wallet may write a uint256 as a string
    read, signature = read_file(path)
    assert read == replace(consent, nonce=2**255) and signature == sign(consent, MERCHANT)


def test_a_ten_megabyte_consent_file_is_refused_unread(tmp_path):
    path = tmp_path / "huge.json"
    path.write_text('{"merchant": "' + "a" * 10_000_000 + '"}')

    def bytes_read():  # what this process has read through read(2) and friends
        return int(dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())["rchar"])

    before = bytes_read()
    with pytest.raises(ConsentError) as caught:
        read_file(path)
    assert caught.value.reason == Refusal.OVERSIZED
    assert bytes_read() - before < 4 * MAX_CONSENT_BYTES


def test_a_directory_named_like_a_consent_is_unreadable(tmp_path):
    (tmp_path / "x.json").mkdir()
    with pytest.raises(ConsentError) as caught:
        read_file(tmp_path / "x.json")
    assert caught.value.reason == Refusal.UNREADABLE
