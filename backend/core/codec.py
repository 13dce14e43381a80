"""The oracle reports' packed 32-byte words, in one place: each layout once, with a pack/unpack pair.

Oracles pack with these; the event index and the API unpack with these; nothing else shifts a word.
The contracts read the same layouts (``CreditLine.onReport``, ``EquipmentLease.onReport``); the
round trip through the contracts is tested in ``tests/contracts/test_codec.py``.

- Credit word: ``merchant (160 bits) | limit in whole tokens (64) | score (16) | rateBps (16)``.
- Lease word: ``leaseId (64) | period (32) | usage in hundredths of an hour (64) | 88 unused |
  flags (8) | hasFlags (1)``; without ``hasFlags`` the lease's flags stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from web3 import Web3

from backend.core.enums import RiskFlag

WORD_BYTES = 32


@dataclass(frozen=True)
class BitField:
    """``bits`` wide, its lowest bit at ``shift``."""

    shift: int
    bits: int

    @property
    def max(self) -> int:
        return (1 << self.bits) - 1

    def put(self, name: str, value: int) -> int:
        if not 0 <= value <= self.max:
            raise ValueError(f"{name} {value} does not fit in {self.bits} bits")
        return value << self.shift

    def get(self, word: int) -> int:
        return (word >> self.shift) & self.max


# --- credit words (CreditLine) ------------------------------------------------------------------

CREDIT_MERCHANT = BitField(96, 160)
CREDIT_LIMIT_WHOLE = BitField(32, 64)
CREDIT_SCORE = BitField(16, 16)
CREDIT_RATE_BPS = BitField(0, 16)


@dataclass(frozen=True)
class CreditUpdate:
    """One merchant's credit update: its limit in whole tokens, score and annual rate in bps."""

    merchant: str  # checksummed
    limit_whole: int
    score: int
    rate_bps: int


def pack_credit_word(merchant: str, limit_whole: int, score: int, rate_bps: int) -> int:
    """One merchant's credit update as one word (raises ValueError when a value does not fit)."""
    return (
        CREDIT_MERCHANT.put("merchant", int(merchant, 16))
        | CREDIT_LIMIT_WHOLE.put("limit", limit_whole)
        | CREDIT_SCORE.put("score", score)
        | CREDIT_RATE_BPS.put("rate", rate_bps)
    )


@lru_cache(maxsize=1 << 17)
def _checksummed(address: int) -> str:
    """An address (a number) in EIP-55 form, remembered: co-signers decode every merchant of each
    report several times, and checksumming costs tens of microseconds (a book of 100,000 fits)."""
    return Web3.to_checksum_address(f"0x{address:040x}")


def unpack_credit_word(word: int) -> CreditUpdate:
    return CreditUpdate(
        merchant=_checksummed(CREDIT_MERCHANT.get(word)),
        limit_whole=CREDIT_LIMIT_WHOLE.get(word),
        score=CREDIT_SCORE.get(word),
        rate_bps=CREDIT_RATE_BPS.get(word),
    )


def credit_payload(model_hash: bytes, features_root: bytes, words: Iterable[int]) -> bytes:
    """``modelHash ‖ featuresRoot ‖ word…``: what the gateway hands to ``CreditLine.onReport``."""
    return bytes(model_hash) + bytes(features_root) + join_words(words)


# --- lease words (EquipmentLease) ---------------------------------------------------------------

LEASE_ID = BitField(192, 64)
LEASE_PERIOD = BitField(160, 32)
LEASE_USAGE = BitField(96, 64)
LEASE_FLAGS = BitField(8, 8)
LEASE_HAS_FLAGS = BitField(0, 1)
_ALL_RISK_FLAGS = int(RiskFlag(sum(RiskFlag)))


@dataclass(frozen=True)
class LeaseItem:
    """One lease item: usage in hundredths of an hour for a period, and the flags (None: unchanged)."""

    lease_id: int
    period: int
    usage_hundredths: int
    flags: RiskFlag | None = None


def pack_lease_word(lease_id: int, period: int, usage_hundredths: int, flags: int | None = None) -> int:
    """One lease item as one word; ``flags`` None leaves the lease's flags as they are."""
    word = (
        LEASE_ID.put("lease id", lease_id)
        | LEASE_PERIOD.put("period", period)
        | LEASE_USAGE.put("usage", usage_hundredths)
    )
    if flags is None:
        return word
    if flags & ~_ALL_RISK_FLAGS or flags < 0:
        raise ValueError(f"flags {flags} are not risk flags ({_ALL_RISK_FLAGS} at most)")
    return word | LEASE_FLAGS.put("flags", flags) | LEASE_HAS_FLAGS.put("has flags", 1)


def unpack_lease_word(word: int) -> LeaseItem:
    has_flags = LEASE_HAS_FLAGS.get(word)
    return LeaseItem(
        lease_id=LEASE_ID.get(word),
        period=LEASE_PERIOD.get(word),
        usage_hundredths=LEASE_USAGE.get(word),
        flags=RiskFlag(LEASE_FLAGS.get(word) & _ALL_RISK_FLAGS) if has_flags else None,
    )


def lease_payload(words: Iterable[int]) -> bytes:
    """``word…``: what the gateway hands to ``EquipmentLease.onReport``."""
    return join_words(words)


# --- words in a blob ------------------------------------------------------------------------------


def join_words(words: Iterable[int]) -> bytes:
    return b"".join(w.to_bytes(WORD_BYTES, "big") for w in words)


def split_words(blob: bytes) -> list[int]:
    """The words of a blob of whole words (an event's ``updates``)."""
    if len(blob) % WORD_BYTES:
        raise ValueError(f"a blob of words has a multiple of {WORD_BYTES} bytes, not {len(blob)}")
    return [int.from_bytes(blob[i : i + WORD_BYTES], "big") for i in range(0, len(blob), WORD_BYTES)]
