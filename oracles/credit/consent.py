"""A merchant's consent to be scored, as EIP-712 typed data the merchant signs in its wallet
(``eth_signTypedData_v4``) and the credit oracle verifies before it reads any of the merchant's data.
The typed data's definition has one home, :mod:`backend.core.consent_types` (the API serves it to the
frontend).

A consent file comes from outside (the merchant downloads it from the web UI and hands it over), so it
is read defensively: at most :data:`MAX_CONSENT_BYTES`, nesting, types and ranges checked, and every
refusal is a :class:`ConsentError` with a :class:`Refusal` reason to count.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from eth_abi.exceptions import EncodingError
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.exceptions import ValidationError
from web3 import Web3

from backend.core.consent_types import CONSENT_TYPES, PRIMARY_TYPE, SCOPE, domain
from oracles.errors import OracleError

MAX_CONSENT_BYTES = 16 * 1024  # a consent file is ~500 bytes; larger files are refused unread
MAX_CONSENT_NESTING = 2  # the document is one flat object; unknown fields may hold one level more
MAX_CONSENT_HORIZON_S = 400 * 86_400  # a consent may not run longer than this from now (the UI asks 365 days)
MAX_MERCHANT_ID = 128  # characters
UINT64_MAX, UINT256_MAX = 2**64 - 1, 2**256 - 1


class Refusal(StrEnum):
    """Why a consent file was refused (counted per cycle by the credit oracle)."""

    OVERSIZED = "oversized"
    UNREADABLE = "unreadable"  # not a readable file, or not UTF-8
    NOT_JSON = "not_json"
    TOO_DEEP = "too_deep"
    NOT_OBJECT = "not_object"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    WRONG_CHAIN = "wrong_chain"
    WRONG_CONTRACT = "wrong_contract"  # signed for another deployment's CreditLine
    WRONG_SCOPE = "wrong_scope"
    EXPIRED = "expired"
    BAD_SIGNATURE = "bad_signature"  # not a signature at all
    WRONG_SIGNER = "wrong_signer"  # a signature, but not the merchant's
    REVOKED = "revoked"  # the merchant revoked it on chain (its consent nonce moved past this one's)
    WRONG_NONCE = "wrong_nonce"  # a nonce the CreditLine has not reached: not a consent it can honour
    NOT_BOUND = "not_bound"  # the bank has not bound this wallet to this merchant id


class ConsentError(OracleError, PermissionError):
    """A consent is missing, malformed, expired, for someone else, or not signed by the merchant."""

    def __init__(self, message: str, reason: Refusal) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Consent:
    merchant: str  # the merchant's wallet address
    merchant_id: str  # its id in the data the bank receives
    expires_at: int  # unix time
    nonce: int  # the CreditLine's consentNonce(merchant) when signed
    chain_id: int
    credit_line: str  # the CreditLine the consent is for (the EIP-712 verifying contract)
    scope: str = SCOPE

    def typed_data(self) -> dict[str, Any]:
        return {
            "types": CONSENT_TYPES,
            "primaryType": PRIMARY_TYPE,
            "domain": domain(self.chain_id, Web3.to_checksum_address(self.credit_line)),
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
        "verifyingContract": consent.credit_line,
        "scope": consent.scope,
        "signature": signature,
    }


def read_file(path: Path) -> tuple[Consent, str]:
    """The consent and its signature in the file at `path`: at most :data:`MAX_CONSENT_BYTES` are
    read, and anything else than a well-formed consent document is a :class:`ConsentError`."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONSENT_BYTES + 1)
    except OSError as exc:
        raise ConsentError(f"cannot read {path.name} ({exc.strerror or exc})", Refusal.UNREADABLE) from None
    if len(raw) > MAX_CONSENT_BYTES:
        raise ConsentError(f"{path.name} is larger than {MAX_CONSENT_BYTES} bytes", Refusal.OVERSIZED)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConsentError(f"{path.name} is not UTF-8", Refusal.UNREADABLE) from None
    if (depth := _nesting(text)) > MAX_CONSENT_NESTING:
        raise ConsentError(f"{path.name} nests {depth} levels deep (at most {MAX_CONSENT_NESTING})", Refusal.TOO_DEEP)
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ConsentError(f"{path.name} nests too deep", Refusal.TOO_DEEP) from None
    except ValueError as exc:  # JSONDecodeError, or an integer of more digits than Python converts
        raise ConsentError(f"{path.name} is not JSON ({str(exc)[:80]})", Refusal.NOT_JSON) from None
    return from_document(doc)


def from_document(doc: Any) -> tuple[Consent, str]:
    """The consent and its signature from a consent document (the parsed JSON of a consent file);
    :class:`ConsentError` if it is not an object of the expected fields, types and ranges."""
    if not isinstance(doc, dict):
        raise ConsentError(f"a consent is a JSON object, not {type(doc).__name__}", Refusal.NOT_OBJECT)
    merchant = _string(doc, "merchant")
    if not Web3.is_address(merchant):
        raise ConsentError(f"merchant {merchant[:50]!r} is not an address", Refusal.WRONG_TYPE)
    merchant_id = _string(doc, "merchantId")
    if not 0 < len(merchant_id) <= MAX_MERCHANT_ID:
        raise ConsentError(f"merchantId has {len(merchant_id)} characters", Refusal.OUT_OF_RANGE)
    credit_line = _string(doc, "verifyingContract")
    if not Web3.is_address(credit_line):
        raise ConsentError(f"verifyingContract {credit_line[:50]!r} is not an address", Refusal.WRONG_TYPE)
    consent = Consent(
        merchant=merchant,
        merchant_id=merchant_id,
        expires_at=_uint(doc, "expiresAt", UINT64_MAX),
        nonce=_uint(doc, "nonce", UINT256_MAX),
        chain_id=_uint(doc, "chainId", UINT256_MAX),
        credit_line=credit_line,
        scope=_string(doc, "scope"),
    )
    return consent, _string(doc, "signature")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def _nesting(text: str) -> int:
    """How deep arrays and objects nest in JSON `text` (strings skipped), without parsing it."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _field(doc: dict, name: str) -> Any:
    if name not in doc:
        raise ConsentError(f"no field {name}", Refusal.MISSING_FIELD)
    return doc[name]


def _string(doc: dict, name: str) -> str:
    value = _field(doc, name)
    if not isinstance(value, str):
        raise ConsentError(f"{name} is {type(value).__name__}, not a string", Refusal.WRONG_TYPE)
    return value


def _uint(doc: dict, name: str, maximum: int) -> int:
    """An unsigned integer: a JSON integer, or a string of decimal digits (wallets write big ones so)."""
    value = _field(doc, name)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= len(str(maximum)):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConsentError(f"{name} is {type(value).__name__}, not an unsigned integer", Refusal.WRONG_TYPE)
    if not 0 <= value <= maximum:
        raise ConsentError(f"{name} {str(value)[:40]} is out of range", Refusal.OUT_OF_RANGE)
    return value


def sign(consent: Consent, account: LocalAccount) -> str:
    """What the merchant's wallet does (used by tests and the demo's dev accounts)."""
    signed = Account.sign_message(encode_typed_data(full_message=consent.typed_data()), account.key)
    return "0x" + signed.signature.hex().removeprefix("0x")


def verify(consent: Consent, signature: str, *, now: int, chain_id: int, credit_line: str, nonce: int) -> None:
    """Raise :class:`ConsentError` unless `signature` is the merchant's own, for this chain and this
    deployment's `credit_line`, carrying the merchant's current consent `nonce` (a lower one was
    revoked), unexpired and not running longer than :data:`MAX_CONSENT_HORIZON_S` from `now`."""
    who = consent.merchant_id[:MAX_MERCHANT_ID]
    if consent.chain_id != chain_id:
        raise ConsentError(
            f"consent of {who} is for chain {str(consent.chain_id)[:40]}, not {chain_id}", Refusal.WRONG_CHAIN
        )
    if consent.credit_line.lower() != credit_line.lower():
        raise ConsentError(
            f"consent of {who} is for the CreditLine {consent.credit_line}, not this deployment's {credit_line}",
            Refusal.WRONG_CONTRACT,
        )
    if consent.nonce < nonce:
        raise ConsentError(f"consent of {who} was revoked (nonce {consent.nonce}, now {nonce})", Refusal.REVOKED)
    if consent.nonce > nonce:
        raise ConsentError(
            f"consent of {who} carries nonce {str(consent.nonce)[:40]}; the CreditLine's is {nonce}",
            Refusal.WRONG_NONCE,
        )
    if consent.scope != SCOPE:
        raise ConsentError(f"consent of {who} does not cover credit scoring", Refusal.WRONG_SCOPE)
    if consent.expires_at <= now:
        raise ConsentError(f"consent of {who} expired at {consent.expires_at}", Refusal.EXPIRED)
    if consent.expires_at > now + MAX_CONSENT_HORIZON_S:
        raise ConsentError(
            f"consent of {who} expires at {str(consent.expires_at)[:40]}, more than "
            f"{MAX_CONSENT_HORIZON_S // 86_400} days from now",
            Refusal.OUT_OF_RANGE,
        )
    try:
        signer = Account.recover_message(encode_typed_data(full_message=consent.typed_data()), signature=signature)
    except (ValueError, TypeError, ValidationError, EncodingError) as exc:
        raise ConsentError(
            f"consent of {who} has an unreadable signature ({str(exc)[:120]})", Refusal.BAD_SIGNATURE
        ) from None
    if signer != Web3.to_checksum_address(consent.merchant):
        raise ConsentError(
            f"consent of {who} was signed by {signer}, not by the merchant {consent.merchant}", Refusal.WRONG_SIGNER
        )
