"""What a credit operator agrees to sign: a leader's proposal checked against its own observation.

Checks are lookups, never rescoring: every cycle an operator records, for each merchant it scored,
the word it would send, its features leaf and its data's time, and for each line it would cut, the
cut's word, its chain-facts leaf and the line's score time (:class:`CreditObservation`). A proposal
is signed only if its model, words and features root are exactly this operator's, its as-of is no
later than this operator's data (a cut: no earlier than the line's score), and it does not repeat a
line already on chain as of that time or later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eth_hash.auto import keccak
from web3 import Web3

from backend.core.chain import events_in
from backend.core.codec import split_words, unpack_credit_word
from oracles.cosign import Proposal, Verdict


@dataclass(frozen=True)
class ObservedLine:
    word: int
    leaf: bytes
    as_of: int  # a scored line: its data's time (the file's, unclipped); a cut: the line's score time
    cut: bool = False


@dataclass(frozen=True)
class CreditObservation:
    """One cycle's view of every line this operator would send, by merchant (checksummed)."""

    model_sha: bytes
    lines: Mapping[str, ObservedLine]
    observed_at: float = 0.0  # time.monotonic() when it was made


def credit_items(payload: bytes) -> dict[str, str]:
    """The items a credit payload sets: merchant → its word (hex), as the outbox records them."""
    return {unpack_credit_word(w).merchant: hex(w) for w in split_words(payload[64:])}


def applied_payload(credit_line, receipt, accepted) -> bytes | None:
    """The payload of the report `accepted` (a gateway's ReportAccepted event) names, as the CreditLine
    (a web3 contract) recorded it: its ScoresApplied event that follows in the same transaction. Never
    the submitter's calldata, which another contract may wrap or pad."""
    for e in events_in(receipt, credit_line, "ScoresApplied"):
        if e["logIndex"] > accepted["logIndex"]:
            args = e["args"]
            return bytes(args["modelHash"]) + bytes(args["featuresRoot"]) + bytes(args["updates"])
    return None


def applied_items(credit_line, receipt, accepted) -> dict[str, str] | None:
    """What a landed credit report set (merchant → word), from the CreditLine's record of its payload
    (:func:`applied_payload`) checked against the hash the gateway accepted; None if they differ."""
    payload = applied_payload(credit_line, receipt, accepted)
    if payload is None or Web3.keccak(payload) != bytes(accepted["args"]["payloadHash"]):
        return None
    return credit_items(payload)


def merkle_root(leaves: list[bytes]) -> bytes:
    """Root over sorted pairs (OpenZeppelin MerkleProof's convention); one leaf is its own root."""
    level = list(leaves) or [bytes(32)]
    while len(level) > 1:
        pairs = [level[i : i + 2] for i in range(0, len(level), 2)]
        level = [keccak(b"".join(sorted(p))) if len(p) == 2 else p[0] for p in pairs]
    return bytes(level[0])


def check_credit(
    obs: CreditObservation | None, proposal: Proposal, confirmed: Mapping[str, str], confirmed_as_of: Mapping[str, int]
) -> Verdict:
    """Whether this operator signs `proposal`, given its observation and what is confirmed on chain
    (item → value and item → as-of, from its own outbox)."""
    payload = proposal.payload
    if obs is None:
        return Verdict(False, "not_observed")
    if len(payload) < 64 or len(payload) % 32:
        return Verdict(False, "malformed_payload")
    if payload[:32] != obs.model_sha:
        return Verdict(False, "model_mismatch")
    words = split_words(payload[64:])
    if not words:
        return Verdict(False, "empty_report")  # it would take a sequence and set nothing
    lines = []
    for word in words:
        line = obs.lines.get(merchant := unpack_credit_word(word).merchant)
        if line is None:
            return Verdict(False, "unknown_merchant")
        if line.word != word:
            return Verdict(False, "word_mismatch")
        lines.append((merchant, line))
    if proposal.items != credit_items(payload):
        return Verdict(False, "items_mismatch")
    if merkle_root([line.leaf for _, line in lines]) != payload[32:64]:
        return Verdict(False, "features_mismatch")
    scored = [line.as_of for _, line in lines if not line.cut]
    if scored and proposal.as_of > min(scored):
        return Verdict(False, "as_of_ahead", min(scored))
    if any(line.cut and proposal.as_of < line.as_of for _, line in lines):
        return Verdict(False, "as_of_behind")
    for merchant, line in lines:
        if confirmed.get(merchant) == hex(line.word) and confirmed_as_of.get(merchant, 0) >= proposal.as_of:
            return Verdict(False, "already_on_chain")
    return Verdict(True)
