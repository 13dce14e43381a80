"""EIP-712 typed data as Yinqi signs it: every domain names its chain and its verifying contract
(consents the CreditLine, reports and the operators' network messages the OracleGateway), and every
message is encoded here from its parts, never taken as a bare hash."""

from __future__ import annotations

from typing import Any

from eth_account.messages import SignableMessage, encode_typed_data

DOMAIN_TYPE: list[dict[str, str]] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def typed_message(
    name: str,
    version: str,
    chain_id: int,
    verifying_contract: str,
    primary: str,
    fields: list[dict[str, str]],
    message: dict[str, Any],
) -> SignableMessage:
    """`message` (of type `primary`, made of `fields`) under the domain (name, version, chain,
    contract), ready to sign or to recover a signer from."""
    return encode_typed_data(
        full_message={
            "types": {"EIP712Domain": DOMAIN_TYPE, primary: fields},
            "primaryType": primary,
            "domain": {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract},
            "message": message,
        }
    )
