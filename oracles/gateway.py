"""What every oracle shares to put a report on chain: packing, EIP-712 signing by operators, and
submitting through the OracleGateway. Each oracle only knows its own domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from backend.chain import send
from backend.manifest import Manifest


def pack_credit_word(merchant: str, limit_whole: int, score: int, rate_bps: int) -> int:
    """One merchant's credit update in one 32-byte word (the CreditLine's payload format):
    ``merchant << 96 | limit (whole tokens, 64 bits) << 32 | score << 16 | rateBps``."""
    if not (0 <= limit_whole < 2**64 and 0 <= score < 2**16 and 0 <= rate_bps < 2**16):
        raise ValueError(f"credit update out of range: limit {limit_whole}, score {score}, rate {rate_bps}")
    return int(merchant, 16) << 96 | limit_whole << 32 | score << 16 | rate_bps


def credit_payload(model_hash: bytes, features_root: bytes, words: Iterable[int]) -> bytes:
    """``modelHash ‖ featuresRoot ‖ word…``: what the gateway hands to CreditLine.onReport."""
    return bytes(model_hash) + bytes(features_root) + b"".join(w.to_bytes(32, "big") for w in words)


def sign_report(
    gateway: Contract, feed: bytes, sequence: int, as_of: int, payload: bytes, signers: Sequence[LocalAccount]
) -> list[bytes]:
    """Operators' signatures over the report's EIP-712 digest, in the ascending signer order the
    gateway requires."""
    digest = gateway.functions.reportDigest(feed, sequence, as_of, payload).call()
    ordered = sorted(signers, key=lambda a: int(a.address, 16))
    return [bytes(Account.unsafe_sign_hash(digest, s.key).signature) for s in ordered]


def submit_report(
    w3: Web3, manifest: Manifest, submitter: LocalAccount, feed: bytes, sequence: int, as_of: int,
    payload: bytes, signatures: list[bytes],
) -> TxReceipt:  # fmt: skip
    gateway = manifest.contract(w3, "OracleGateway")
    call = gateway.functions.submit(feed, sequence, as_of, payload, signatures)
    return send(w3, submitter, call, decoder=manifest.revert_decoder(), what=f"submitting report {sequence}")
