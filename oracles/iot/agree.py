"""What an IoT operator agrees to sign: a leader's proposal checked against its own device store.

Every operator subscribes to the fleet on its own (its own MQTT client, no shared group), so each
store sees the same messages, give or take the last second. Co-signed reports carry states, not
changes: a period's usage, and a running lease's flags as its device has them now (one flags word per
lease). Each operator numbers and times its changes its own way (its idle timer runs on its own
clock), but computes the same states from the same messages.

A follower signs a report only if its own store is complete up to the report's as-of (waiting a
moment for messages in flight), and for every word of a lease the chain still runs: the lease is one
the follower follows; no unbilled period's usage is above what the follower counted (by more than
:data:`USAGE_TOLERANCE`: stores a message apart); and the flags are the device's flags in the
follower's store now, or a state it left within :data:`FLAG_GRACE` of the as-of (the follower a
message ahead). A word the lease will ignore (a lease no longer running; usage of a billed period)
needs no agreement. Usage below the follower's count is signed: the lease keeps a period's highest
usage, so a low report lowers nothing. A leader can thus at worst hold back a state for a slot: the
next leader sends the device's current one.

The chain's record of a report another operator landed is read from the lease's own events
(:func:`applied_items`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from backend.core.chain import events_in
from backend.core.codec import split_words, unpack_lease_word
from backend.core.statuses import RUNNING_LEASE
from oracles.cosign import Proposal, Verdict
from oracles.iot.store import LeaseInfo, StoreReader

USAGE_TOLERANCE = (5, 0.005)  # hundredths of an hour, share of the count: the larger is allowed above it
FLAG_GRACE = 5.0  # seconds before the as-of in which a device's earlier flags may still be signed
CATCH_UP = 1.5  # seconds a follower waits for its own store to reach the proposal's as-of
FUTURE = 2.0  # seconds past this operator's clock an as-of may be (no wait for data that cannot exist yet)


def usage_agrees(proposed: int, own: int) -> bool:
    """Whether proposed usage (hundredths) is within what this operator counted."""
    absolute, share = USAGE_TOLERANCE
    return proposed <= own + max(absolute, int(own * share))


def flags_agree(proposed: int, reader: StoreReader, device: str, as_of: int) -> bool:
    """Whether `proposed` is the device's flags in this store now, or a state it left within
    :data:`FLAG_GRACE` of `as_of` (changes in the order this store applied them; one stamped far from
    the as-of, a device clock that runs ahead say, opens no window)."""
    if proposed == reader.current_flags(device):
        return True
    ordered = sorted(reader.flag_changes(device), key=lambda c: c["n"])
    before = 0
    for change in ordered:
        if abs(change["at"] - as_of) <= FLAG_GRACE and before == proposed:
            return True
        before = change["flags"]
    return False


def check_iot(
    reader: StoreReader,
    leases: Mapping[int, tuple[str, LeaseInfo]],
    proposal: Proposal,
    lease_of: Callable,
    *,
    catch_up: float = CATCH_UP,
) -> Verdict:
    """Whether this operator signs `proposal`, given its store, the leases it follows (lease id →
    (device, lease)) and `lease_of` (the lease contract's ``leaseOf``, a web3 function: what the chain
    will do with each word)."""
    payload = proposal.payload
    if len(payload) % 32:
        return Verdict(False, "malformed_payload")
    words = split_words(payload)
    if not words:
        return Verdict(False, "empty_report")
    if proposal.as_of > time.time() + FUTURE:
        return Verdict(False, "from_future")
    deadline = time.monotonic() + catch_up
    while (observed := reader.observed_at() or 0.0) < proposal.as_of and time.monotonic() < deadline:
        time.sleep(0.1)  # messages the leader has applied may still be on their way to this store
    if observed < proposal.as_of:
        return Verdict(False, "as_of_ahead", int(observed))
    usage, flagged, chain = reader.usage(), set(), {}
    for word in words:
        item = unpack_lease_word(word)
        if item.lease_id not in chain:
            chain[item.lease_id] = lease_of(item.lease_id).call()
        on_chain = chain[item.lease_id]
        if on_chain.status not in RUNNING_LEASE:
            continue  # the lease ignores the whole word
        if item.lease_id not in leases:
            return Verdict(False, "unknown_lease")
        device, _ = leases[item.lease_id]
        if on_chain.billed <= item.period < on_chain.periods:  # otherwise the lease ignores the usage
            own = int(usage.get((item.lease_id, item.period), 0.0) * 100)
            if not usage_agrees(item.usage_hundredths, own):
                return Verdict(False, "usage_mismatch")
        if item.flags is not None:
            if item.lease_id in flagged:
                return Verdict(False, "duplicate_flags")  # one state per lease and report
            flagged.add(item.lease_id)
            if not flags_agree(int(item.flags), reader, device, proposal.as_of):
                return Verdict(False, "flags_mismatch")
    return Verdict(True)


def applied_items(lease_contract, receipt, accepted) -> dict[str, str]:
    """What a landed IoT report set, from the lease's own events in the same transaction (its
    ``UsageReported`` and ``RiskFlagsChanged`` after the gateway's ``ReportAccepted``, before the next
    one): ``usage:<lease>:<period>`` and ``flags:<lease>``. A word that changed nothing left no event,
    and needs none: the chain already held that state."""
    after = [log["logIndex"] for log in receipt["logs"] if log["address"] == accepted["address"]]
    end = min((i for i in after if i > accepted["logIndex"]), default=float("inf"))

    def own(name):
        return [e for e in events_in(receipt, lease_contract, name) if accepted["logIndex"] < e["logIndex"] < end]

    found = {
        f"usage:{e['args']['leaseId']}:{e['args']['period']}": str(e["args"]["usage"]) for e in own("UsageReported")
    }
    for e in own("RiskFlagsChanged"):
        found[f"flags:{e['args']['leaseId']}"] = str(e["args"]["flags"])
    return found
