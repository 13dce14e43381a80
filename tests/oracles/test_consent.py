from dataclasses import replace

import pytest

from backend.core.dev_accounts import dev_account
from oracles.credit.consent import Consent, ConsentError, sign, verify

MERCHANT, OTHER = dev_account(5), dev_account(6)
NOW = 1_800_000_000


@pytest.fixture
def consent():
    return Consent(merchant=MERCHANT.address, merchant_id="M000005", expires_at=NOW + 86_400, nonce=1, chain_id=31337)


def test_merchants_own_signature_is_accepted(consent):
    verify(consent, sign(consent, MERCHANT), now=NOW, chain_id=31337)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"merchant_id": "M999999"}, "signed by"),  # the signed text differs from what is presented
        ({"nonce": 2}, "signed by"),
        ({"expires_at": NOW}, "expired"),
        ({"chain_id": 1}, "for chain 1"),
        ({"scope": "marketing"}, "does not cover"),
    ],
)
def test_altered_or_stale_consent_is_refused(consent, change, message):
    signature = sign(consent, MERCHANT)
    with pytest.raises(ConsentError, match=message):
        verify(replace(consent, **change), signature, now=NOW, chain_id=31337)


def test_consent_signed_by_someone_else_is_refused(consent):
    with pytest.raises(ConsentError, match="not by the merchant"):
        verify(consent, sign(consent, OTHER), now=NOW, chain_id=31337)


def test_garbage_signature_is_refused(consent):
    with pytest.raises(ConsentError, match="unreadable signature"):
        verify(consent, "0x1234", now=NOW, chain_id=31337)
