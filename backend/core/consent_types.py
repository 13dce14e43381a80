"""A merchant's consent to be scored, as EIP-712 typed data: the domain, the types and the scope, in
one place. The credit oracle builds and verifies consents from this (:mod:`oracles.credit.consent`);
the API serves it (``GET /api/credit-lines/consent``) so that the merchant's wallet signs exactly this
in the browser. Nothing here signs.

A consent is bound to one deployment: its domain names the chain and the CreditLine (the verifying
contract), which also keeps each merchant's consent nonce (``consentNonce``; ``revokeConsent()``
moves it on and voids every consent signed before).
"""

from __future__ import annotations

from typing import Any

from web3 import Web3

from backend.core.eip712 import DOMAIN_TYPE

SCOPE = "Yinqi: score my operating data for a revolving credit line"
DOMAIN_NAME = "Yinqi credit consent"
DOMAIN_VERSION = "2"  # 2: the domain names the CreditLine; the nonce is the one it keeps
PRIMARY_TYPE = "Consent"
CONSENT_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": DOMAIN_TYPE,
    PRIMARY_TYPE: [
        {"name": "merchant", "type": "address"},
        {"name": "merchantId", "type": "string"},
        {"name": "scope", "type": "string"},
        {"name": "expiresAt", "type": "uint64"},
        {"name": "nonce", "type": "uint256"},
    ],
}


def domain(chain_id: int, credit_line: str) -> dict[str, Any]:
    """The EIP-712 domain of a consent for the CreditLine at `credit_line` on chain `chain_id`."""
    return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": credit_line}


def definition(chain_id: int, credit_line: str) -> dict[str, Any]:
    """Everything but the message: ``{"primaryType", "domain", "types", "scope"}`` (``types`` includes
    ``EIP712Domain``, as ``eth_signTypedData_v4`` wants it)."""
    return {
        "primaryType": PRIMARY_TYPE,
        "domain": domain(chain_id, credit_line),
        "types": CONSENT_TYPES,
        "scope": SCOPE,
    }


def merchant_id_hash(merchant_id: str) -> bytes:
    """What the ParticipantRegistry binds a merchant's wallet to (``bindMerchantId``): keccak256 of the
    merchant id's UTF-8 text, surrounding spaces stripped, as the credit oracle reads ids from the data."""
    return bytes(Web3.keccak(text=merchant_id.strip()))
