"""A merchant's consent to be scored, as EIP-712 typed data the merchant signs in its wallet
(``eth_signTypedData_v4``) and the credit oracle verifies before it reads any of the merchant's data.
The typed data's definition has one home, :mod:`backend.core.consent_types` (the API serves it to the
frontend).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.exceptions import ValidationError
from web3 import Web3

from backend.core.consent_types import CONSENT_TYPES, PRIMARY_TYPE, SCOPE, domain
from oracles.errors import OracleError


class ConsentError(OracleError, PermissionError):
    """A consent is missing, expired, for someone else, or not signed by the merchant."""


@dataclass(frozen=True)
class Consent:
    merchant: str  # the merchant's wallet address
    merchant_id: str  # its id in the data the bank receives
    expires_at: int  # unix time
    nonce: int
    chain_id: int
    scope: str = SCOPE

    def typed_data(self) -> dict[str, Any]:
        return {
            "types": CONSENT_TYPES,
            "primaryType": PRIMARY_TYPE,
            "domain": domain(self.chain_id),
            "message": {
                "merchant": Web3.to_checksum_address(self.merchant),
                "merchantId": self.merchant_id,
                "scope": self.scope,
                "expiresAt": self.expires_at,
                "nonce": self.nonce,
            },
        }


def to_document(consent: Consent, signature: str) -> dict[str, Any]:
    """The consent file the oracle reads (one JSON file per merchant): the signed fields and the signature."""
    return {
        "merchant": consent.merchant,
        "merchantId": consent.merchant_id,
        "expiresAt": consent.expires_at,
        "nonce": consent.nonce,
        "chainId": consent.chain_id,
        "scope": consent.scope,
        "signature": signature,
    }


def from_document(doc: dict[str, Any]) -> tuple[Consent, str]:
    """The consent and its signature from a consent file; KeyError/ValueError/TypeError if malformed."""
    consent = Consent(
        merchant=doc["merchant"],
        merchant_id=doc["merchantId"],
        expires_at=int(doc["expiresAt"]),
        nonce=int(doc["nonce"]),
        chain_id=int(doc["chainId"]),
        scope=doc["scope"],
    )
    return consent, doc["signature"]


def sign(consent: Consent, account: LocalAccount) -> str:
    """What the merchant's wallet does (used by tests and the demo's dev accounts)."""
    signed = Account.sign_message(encode_typed_data(full_message=consent.typed_data()), account.key)
    return "0x" + signed.signature.hex().removeprefix("0x")


def verify(consent: Consent, signature: str, *, now: int, chain_id: int) -> None:
    """Raise :class:`ConsentError` unless `signature` is the merchant's own, for this chain, unexpired."""
    if consent.chain_id != chain_id:
        raise ConsentError(f"consent of {consent.merchant_id} is for chain {consent.chain_id}, not {chain_id}")
    if consent.scope != SCOPE:
        raise ConsentError(f"consent of {consent.merchant_id} does not cover credit scoring")
    if consent.expires_at <= now:
        raise ConsentError(f"consent of {consent.merchant_id} expired at {consent.expires_at}")
    try:
        signer = Account.recover_message(encode_typed_data(full_message=consent.typed_data()), signature=signature)
    except (ValueError, TypeError, ValidationError) as exc:
        raise ConsentError(f"consent of {consent.merchant_id} has an unreadable signature ({exc})") from None
    if signer != Web3.to_checksum_address(consent.merchant):
        raise ConsentError(
            f"consent of {consent.merchant_id} was signed by {signer}, not by the merchant {consent.merchant}"
        )
