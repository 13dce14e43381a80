"""A merchant's consent to be scored, as EIP-712 typed data: the domain, the types and the scope, in
one place. The credit oracle builds and verifies consents from this (:mod:`oracles.credit.consent`);
the API serves it (``GET /api/credit-lines/consent``) so that the merchant's wallet signs exactly this
in the browser. Nothing here signs.
"""

from __future__ import annotations

from typing import Any

SCOPE = "Yinqi: score my operating data for a revolving credit line"
DOMAIN_NAME = "Yinqi credit consent"
DOMAIN_VERSION = "1"
PRIMARY_TYPE = "Consent"
CONSENT_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
    ],
    PRIMARY_TYPE: [
        {"name": "merchant", "type": "address"},
        {"name": "merchantId", "type": "string"},
        {"name": "scope", "type": "string"},
        {"name": "expiresAt", "type": "uint64"},
        {"name": "nonce", "type": "uint256"},
    ],
}


def domain(chain_id: int) -> dict[str, Any]:
    """The EIP-712 domain of a consent on chain `chain_id`."""
    return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id}


def definition(chain_id: int) -> dict[str, Any]:
    """Everything but the message: ``{"primaryType", "domain", "types", "scope"}`` (``types`` includes
    ``EIP712Domain``, as ``eth_signTypedData_v4`` wants it)."""
    return {"primaryType": PRIMARY_TYPE, "domain": domain(chain_id), "types": CONSENT_TYPES, "scope": SCOPE}
