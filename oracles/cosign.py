"""Co-signing: the operators of one feed agree on each report before it goes on chain (k-of-n).

Per time slot one operator leads (:class:`OperatorSet`, :func:`slot`): it proposes the report it
built over MQTT, and every other operator checks it against its own observation and answers with
an endorsement (its own report signature) or a signed refusal saying why. The leader submits once it
holds the feed's quorum of signatures; the gateway's sequence settles any race between leaders.

Messages travel on ``yinqi/oracle/<feed-hex>/{proposal,endorsement,refusal}/<sender>`` (QoS 1, no
retain) and are signed under the network's own EIP-712 domain, whose separator differs from the
gateway's, so no network message passes as a report signature. The broker can delay or drop
messages, never forge one. A proposal that fails the checks up to the sequence is ignored (no reply,
counted by reason); one outside the gateway's window or that the feed's check rejects is refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from eth_account import Account
from eth_account.messages import SignableMessage
from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.core.chain import connect, event_logs
from backend.core.eip712 import typed_message
from backend.core.manifest import Manifest
from oracles.errors import OracleError
from oracles.gateway import ReportDomain, report_message, sign_report, too_old
from oracles.iot.mqtt import FlowControlledClient
from oracles.iot.mqtt import connect as mqtt_connect
from oracles.metrics import OracleMetrics
from oracles.outbox import Outbox

log = logging.getLogger(__name__)

NETWORK_DOMAIN_NAME, NETWORK_DOMAIN_VERSION = "Yinqi Oracle Network", "1"
MAX_MESSAGE = 1 << 20  # bytes of one encoded message
PROPOSALS_PER_SEQUENCE = 4  # proposals of one sequence a follower takes from one leader in one slot
SEQUENCES_AHEAD = 16  # how far past the last sequence it knew a proposal may be and still be read
QUEUED_PROPOSALS = 16  # proposals waiting to be checked, from all leaders: past this, new ones are dropped
SLOT_GRACE = 1.0  # seconds a proposal may come before or after its slot (clock skew, the broker's delay)
SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
ROUND_TYPE = [  # what names a round: every network message starts with it
    {"name": "feed", "type": "bytes32"},
    {"name": "sequence", "type": "uint64"},
    {"name": "attempt", "type": "uint64"},
]
PAYLOAD_HASH = {"name": "payloadHash", "type": "bytes32"}
AS_OF = {"name": "asOf", "type": "uint64"}
PROPOSAL_TYPE = [*ROUND_TYPE, AS_OF, PAYLOAD_HASH, {"name": "itemsHash", "type": "bytes32"}]
REFUSAL_TYPE = [
    *ROUND_TYPE,
    AS_OF,
    PAYLOAD_HASH,
    {"name": "reason", "type": "string"},
    {"name": "ownAsOf", "type": "uint64"},
]


class NoQuorum(OracleError):
    """The round ended without the feed's quorum of signatures: nothing was recorded or sent."""


class NotLeader(OracleError):
    """Another operator leads this slot: it proposes, this one follows."""


class MessageError(ValueError):
    """A network message that is not one: malformed, oversized or of an unknown type."""


@dataclass(frozen=True)
class Proposal:
    """The leader's report for a sequence, in one attempt (slot), with the items it sets."""

    feed: bytes
    sequence: int
    attempt: int
    as_of: int
    payload: bytes
    items: dict[str, str]
    sender: str = ""
    signature: bytes = b""

    @property
    def payload_hash(self) -> bytes:
        return bytes(Web3.keccak(self.payload))


@dataclass(frozen=True)
class Endorsement:
    """A follower's report signature over the proposal's (feed, sequence, as-of, payload)."""

    feed: bytes
    sequence: int
    attempt: int
    as_of: int
    payload_hash: bytes
    sender: str
    signature: bytes


@dataclass(frozen=True)
class Refusal:
    """A follower's signed no, with its reason and, for ``as_of_ahead``, the as-of it could sign."""

    feed: bytes
    sequence: int
    attempt: int
    payload_hash: bytes
    reason: str
    own_as_of: int = 0
    as_of: int = 0  # the proposal's as-of it refuses (a re-proposal in the same slot differs in it alone)
    sender: str = ""
    signature: bytes = b""


class Verdict(NamedTuple):
    """A feed check's answer to a proposal."""

    ok: bool
    reason: str = ""
    own_as_of: int = 0


def items_hash(items: dict[str, str]) -> bytes:
    """keccak of the items as canonical JSON (keys sorted, no spaces)."""
    return bytes(Web3.keccak(text=json.dumps(items, sort_keys=True, separators=(",", ":"))))


def network_message(domain: ReportDomain, msg: Proposal | Refusal) -> SignableMessage:
    """A proposal or a refusal as EIP-712 typed data of the network's domain, built from its parts."""
    if isinstance(msg, Proposal):
        primary, fields = "Proposal", PROPOSAL_TYPE
        values = {"asOf": msg.as_of, "payloadHash": msg.payload_hash, "itemsHash": items_hash(msg.items)}
    else:
        primary, fields = "Refusal", REFUSAL_TYPE
        values = {"asOf": msg.as_of, "payloadHash": msg.payload_hash, "reason": msg.reason, "ownAsOf": msg.own_as_of}
    values |= {"feed": msg.feed, "sequence": msg.sequence, "attempt": msg.attempt}
    return typed_message(
        NETWORK_DOMAIN_NAME, NETWORK_DOMAIN_VERSION, domain.chain_id, domain.gateway, primary, fields, values
    )


def signed(domain: ReportDomain, msg: Proposal | Refusal, signer: LocalAccount) -> Proposal | Refusal:
    """`msg` from `signer`, signed under the network's domain."""
    signature = signer.sign_message(network_message(domain, msg)).signature
    return replace(msg, sender=signer.address, signature=bytes(signature))


def signer_of(message: SignableMessage, signature: bytes) -> str | None:
    """Who signed `message` (checksummed), or None for a signature that recovers to no one."""
    try:
        return Account.recover_message(message, signature=signature)
    except Exception:  # eth_account raises several types for a malformed signature
        return None


KINDS = {Proposal: "proposal", Endorsement: "endorsement", Refusal: "refusal"}
_WIRE = {  # field → (wire name, kind)
    "feed": ("feed", "hex"),
    "payload": ("payload", "hex"),
    "payload_hash": ("payloadHash", "hex"),
    "signature": ("sig", "hex"),
    "sender": ("from", "address"),
    "as_of": ("asOf", "uint"),
    "own_as_of": ("ownAsOf", "uint"),
    "sequence": ("sequence", "uint"),
    "attempt": ("attempt", "uint"),
    "reason": ("reason", "text"),
    "items": ("items", "items"),
}


def encode(msg: Proposal | Endorsement | Refusal) -> bytes:
    body = {"type": KINDS[type(msg)]}
    for name in msg.__dataclass_fields__:
        wire, kind = _WIRE[name]
        value = getattr(msg, name)
        body[wire] = "0x" + value.hex() if kind == "hex" else value
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _parse(kind: str, value):
    if kind == "hex" and isinstance(value, str) and value.startswith("0x"):
        return bytes.fromhex(value[2:])
    if kind == "address" and isinstance(value, str):
        return Web3.to_checksum_address(value)
    if kind == "uint" and type(value) is int and 0 <= value < 2**64:
        return value
    if kind == "text" and isinstance(value, str) and len(value) <= 64:
        return value
    if kind == "items" and isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return value
    raise MessageError(f"not a {'uint64' if kind == 'uint' else kind}: {str(value)[:40]}")


def decode(raw: bytes) -> Proposal | Endorsement | Refusal:
    """A message from its wire form; :class:`MessageError` for anything else."""
    if len(raw) > MAX_MESSAGE:
        raise MessageError(f"message of {len(raw)} bytes (at most {MAX_MESSAGE})")
    try:
        body = json.loads(raw)
        cls = next(c for c, kind in KINDS.items() if kind == body["type"])
        values = {name: _parse(_WIRE[name][1], body[_WIRE[name][0]]) for name in cls.__dataclass_fields__}
    except MessageError:
        raise
    except (ValueError, TypeError, KeyError, StopIteration, RecursionError) as exc:
        raise MessageError(f"not a network message ({type(exc).__name__}: {exc})") from None
    if len(values["feed"]) != 32 or len(values.get("payload_hash", bytes(32))) != 32:
        raise MessageError("feed and payload hash are 32 bytes")
    return cls(**values)


def slot(now: float, round_seconds: float) -> int:
    """The attempt (time slot) `now` (unix seconds) falls in."""
    return int(now // round_seconds)


def in_slot(attempt: int, now: float, round_seconds: float) -> bool:
    """Whether `now` is within slot `attempt`, give or take :data:`SLOT_GRACE`: a proposal is taken only
    in its own slot, so a leader cannot act in its neighbours'."""
    start = attempt * round_seconds
    return start - SLOT_GRACE <= now < start + round_seconds + SLOT_GRACE


def canonical(signature: bytes) -> bool:
    """Whether a signature is one the gateway takes (OpenZeppelin's ECDSA): 65 bytes, v 27 or 28, s in
    the lower half of the curve's order. eth_account recovers the others too, so a follower could
    otherwise hand the leader a signature that makes its report revert."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        return False
    return 0 < int.from_bytes(signature[32:64], "big") <= SECP256K1_HALF_ORDER


@dataclass(frozen=True)
class OperatorSet:
    """A feed's operators as the gateway has them, in ascending address order."""

    operators: tuple[str, ...]

    @classmethod
    def read(cls, w3: Web3, manifest: Manifest, feed: bytes) -> OperatorSet:
        """The feed's operators now, read from the deployment block on (:class:`OperatorRoster` follows them)."""
        return OperatorRoster(w3, manifest, feed).current()

    def __contains__(self, address: str) -> bool:
        return address in self.operators

    def leader(self, attempt: int) -> str:
        return self.operators[attempt % len(self.operators)]


class OperatorRoster:
    """A feed's operators, followed from the gateway's OperatorAdded/OperatorRemoved events: each
    :meth:`current` reads only the blocks since the last and the gateway's ``operatorCount``; when an
    event names someone, the count moved, or on the first read, it asks the gateway who of everyone
    named is still an operator (and checks that against the count). Safe to share between threads."""

    def __init__(self, w3: Web3, manifest: Manifest, feed: bytes) -> None:
        self.w3, self.feed = w3, feed
        self._gateway = manifest.contract(w3, "OracleGateway")
        self._next_block = manifest.record("OracleGateway").block
        self._named: set[str] = set()  # everyone ever added or removed
        self._set: OperatorSet | None = None  # as of the last read: unchanged until an event names someone
        self._lock = threading.Lock()

    def current(self) -> OperatorSet:
        with self._lock:
            return self._current()

    def _current(self) -> OperatorSet:
        last = self.w3.eth.block_number
        events = (self._gateway.events.OperatorAdded(), self._gateway.events.OperatorRemoved())
        found = event_logs(events, self._next_block, last, argument_filters={"feed": self.feed})
        named = self._named | {e["args"]["operator"] for e in found}
        functions = self._gateway.functions
        count = functions.operatorCount(self.feed).call(block_identifier=last)
        if self._set is None or found or count != len(self._set.operators):
            current = [a for a in named if functions.isOperator(self.feed, a).call(block_identifier=last)]
            if len(current) != count:
                raise OracleError(
                    f"the gateway counts {count} operators of feed 0x{self.feed.hex()}, its events {len(current)}"
                )
            self._set = OperatorSet(tuple(sorted(current, key=lambda a: int(a, 16))))
        # moved on only once every read succeeded: a failed one leaves the events to be read again
        self._named, self._next_block = named, max(self._next_block, last + 1)
        return self._set


@dataclass
class Round:
    """What the leader has gathered for one proposal."""

    proposal: Proposal
    operators: OperatorSet
    quorum: int
    report: SignableMessage
    signatures: dict[str, bytes] = field(default_factory=dict)
    refusals: dict[str, Refusal] = field(default_factory=dict)
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, msg: Endorsement | Refusal) -> bool:
        p = self.proposal
        return (msg.feed, msg.sequence, msg.attempt, msg.as_of, msg.payload_hash) == (
            p.feed,
            p.sequence,
            p.attempt,
            p.as_of,
            p.payload_hash,
        )

    def count(self, sender: str, *, signature: bytes | None = None, refusal: Refusal | None = None) -> None:
        if sender in self.signatures or sender in self.refusals:
            return
        if signature is not None:
            self.signatures[sender] = signature
        else:
            self.refusals[sender] = refusal
        if len(self.signatures) >= self.quorum or len(self.operators.operators) - len(self.refusals) < self.quorum:
            self.settled.set()


def reachable_as_of(rnd: Round, as_of: int, floor_as_of: int) -> int | None:
    """The newest as-of, older than `as_of` and not below `floor_as_of`, that the round's quorum could
    sign, judging by the ``as_of_ahead`` refusals (each names the newest its data allows); None when
    no such as-of reaches the quorum. A refusal naming a time outside that range is ignored."""
    willing = len(rnd.signatures)  # who signed `as_of` signs anything older too (their data is newer)
    offers = sorted(
        (
            r.own_as_of
            for r in rnd.refusals.values()
            if r.reason == "as_of_ahead" and floor_as_of <= r.own_as_of < as_of
        ),
        reverse=True,
    )
    for taken, offer in enumerate(offers, start=1):
        if willing + taken >= rnd.quorum:
            return offer
    return None


class CoSigner:
    """One operator's part in its feed's co-signing: leader (:meth:`gather`) when its slot comes,
    follower (checking each proposal with `check`) the rest of the time. Its event loop uses its own
    ``Web3`` and its own connection to the state file, where every endorsement is recorded before it
    is sent."""

    def __init__(
        self,
        w3: Web3,
        manifest: Manifest,
        signer: LocalAccount,
        feed: bytes,
        state: Path,
        check: Callable[[Proposal], Verdict],
        *,
        round_seconds: float,
        metrics: OracleMetrics,
    ) -> None:
        self.w3, self.manifest, self.signer, self.feed, self.check = w3, manifest, signer, feed, check
        self.round_seconds, self.metrics = round_seconds, metrics
        self.domain = ReportDomain.of(manifest)
        self._w3 = connect(w3.provider.endpoint_uri)  # the event loop's own
        self._roster = OperatorRoster(w3, manifest, feed)  # the daemon thread's
        self._loop_roster = OperatorRoster(self._w3, manifest, feed)
        self._gateway = manifest.contract(self._w3, "OracleGateway")
        self._max_clock_skew: int | None = None  # a constant of the gateway's, read once
        self._store = Outbox(state)
        self._seen: Counter[tuple[str, int, int]] = Counter()  # proposals taken per (leader, attempt, sequence)
        self._last_sequence: int | None = None  # the feed's last sequence, as the last check read it
        self._endorsed: dict[tuple[int, int], bytes] = {}  # (sequence, attempt) → the payload hash signed
        self._operators: OperatorSet | None = None  # the last set the loop read: a cheap first filter
        self._busy = asyncio.Lock()  # one proposal checked at a time
        self._round: Round | None = None
        self._halted = False  # stopping: no round is led any more
        self._client: FlowControlledClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task] = set()

    def topic(self, kind: str, sender: str = "+") -> str:
        return f"yinqi/oracle/{self.feed.hex()}/{kind}/{sender}"

    async def start(self, host: str, port: int) -> None:
        """Connect to the broker and follow the feed's proposals and answers."""
        self._loop = asyncio.get_running_loop()
        subscribed = asyncio.Event()
        client = FlowControlledClient(f"yinqi-oracle-{self.feed.hex()[:8]}-{self.signer.address.lower()}")
        client.on_connect = lambda c, *a: c.subscribe(self.topic("+"), qos=1)
        client.on_subscribe = lambda *a: subscribed.set()
        client.on_message = self._on_message
        await mqtt_connect(client, host, port)
        await asyncio.wait_for(subscribed.wait(), timeout=30)
        self._client = client
        log.info("co-signing feed 0x%s as %s on %s:%d", self.feed.hex(), self.signer.address, host, port)

    def halt(self) -> None:
        """Lead no more rounds, and end the one in flight now, without its quorum: an operator that is
        stopping leaves its slot's report to the next leader rather than hold its shutdown for the slot.
        Safe from any thread."""
        self._halted = True
        if self._loop is not None and (rnd := self._round) is not None:
            self._loop.call_soon_threadsafe(rnd.settled.set)

    async def halt_when(self, stop: asyncio.Event) -> None:
        """:meth:`halt` once `stop` is set (a daemon's shutdown)."""
        await stop.wait()
        self.halt()

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.disconnect()
        for task in self._tasks:
            task.cancel()
        self._store.close()

    def leads_now(self) -> bool:
        """Whether this operator leads the current slot (never before it is on the network)."""
        if self._client is None:
            return False
        operators = self._roster.current()
        return operators.leader(slot(time.time(), self.round_seconds)) == self.signer.address

    def gather_blocking(self, *args, **kw) -> tuple[int, list[bytes]]:
        """:meth:`gather` from another thread (the daemon's cycle), on the co-signer's event loop."""
        return asyncio.run_coroutine_threadsafe(self.gather(*args, **kw), self._loop).result()

    async def gather(
        self, sequence: int, as_of: int, payload: bytes, items: dict[str, str], *, floor_as_of: int
    ) -> tuple[int, list[bytes]]:
        """Lead one round: propose the report, collect endorsements until the feed's quorum, and return
        the agreed as-of and exactly that many signatures, ascending by signer. When only
        ``as_of_ahead`` refusals stand in the way, proposes once more as of the oldest as-of they could
        sign, if the gateway still takes it and it is not below `floor_as_of` (the items' newest on
        chain). :class:`NotLeader` outside its slot, :class:`NoQuorum` when the round fails."""
        if self._halted:
            raise NoQuorum(f"report {sequence}: this operator is stopping")
        attempt = slot(time.time(), self.round_seconds)
        operators, route, now = await asyncio.to_thread(self._chain_view)
        if operators.leader(attempt) != self.signer.address:
            raise NotLeader(f"{operators.leader(attempt)} leads slot {attempt}")
        deadline = (attempt + 1) * self.round_seconds + 1
        for proposed in range(2):
            proposal = signed(self.domain, Proposal(self.feed, sequence, attempt, as_of, payload, items), self.signer)
            report = report_message(self.domain, self.feed, sequence, as_of, payload)
            self._round = rnd = Round(proposal, operators, route.quorum, report)
            if self._halted:  # halted while the chain was read (checked after _round is set: see halt)
                self._round = None
                break
            rnd.count(self.signer.address, signature=bytes(self.signer.sign_message(report).signature))
            await self._client.send(self.topic("proposal", self.signer.address), encode(proposal))
            try:
                await asyncio.wait_for(rnd.settled.wait(), timeout=max(0.0, deadline - time.time()))
            except TimeoutError:
                pass
            finally:
                self._round = None
            if len(rnd.signatures) >= route.quorum:
                self.metrics.cosign_rounds.labels(outcome="agreed").inc()
                ordered = sorted(rnd.signatures.items(), key=lambda kv: int(kv[0], 16))[: route.quorum]
                return as_of, [signature for _, signature in ordered]
            older = reachable_as_of(rnd, as_of, floor_as_of)
            if proposed or self._halted or older is None or too_old(older, now, route.maxAge):
                break
            log.info("report %d re-proposed as of %d (followers' data is older than %d)", sequence, older, as_of)
            as_of = older
        self.metrics.cosign_rounds.labels(outcome="no_quorum").inc()
        refused = ", ".join(f"{a}: {r.reason}" for a, r in rnd.refusals.items()) or "none"
        raise NoQuorum(
            f"report {sequence}: {len(rnd.signatures)} of {route.quorum} signatures in slot {attempt} "
            f"(refusals: {refused})"
        )

    def _chain_view(self):
        operators = self._loop_roster.current()
        return operators, self._gateway.functions.feeds(self.feed).call(), self._w3.eth.get_block("latest")["timestamp"]

    def _ignore(self, reason: str, msg=None) -> None:
        self.metrics.cosign_proposals_ignored.labels(reason=reason).inc()
        log.info("network message ignored (%s)%s", reason, f" from {msg.sender}" if msg is not None else "")

    def _on_message(self, client, topic: str, payload: bytes, qos, properties) -> int:
        try:
            msg = decode(payload)
        except MessageError as exc:
            self._ignore("malformed")
            log.debug("malformed network message on %s: %s", topic, exc)
            return 0
        if msg.sender == self.signer.address:
            return 0  # our own, back from the broker
        if topic.rsplit("/", 1)[-1].lower() != msg.sender.lower() or topic.split("/")[3] != KINDS[type(msg)]:
            self._ignore("malformed", msg)
        elif isinstance(msg, Proposal):
            self._take(msg)
        elif (rnd := self._round) is not None and rnd.matches(msg):
            self._answer(rnd, msg)
        return 0

    def _take(self, p: Proposal) -> None:
        """Queue a proposal for checking, after the checks that need no chain read (the cheapest first):
        its slot, its feed, who signed it, the last known operator set and sequence, the per-leader cap."""
        if not in_slot(p.attempt, time.time(), self.round_seconds):
            return self._ignore("stale_attempt", p)
        if p.feed != self.feed:
            return self._ignore("wrong_feed", p)
        if signer_of(network_message(self.domain, p), p.signature) != p.sender:
            return self._ignore("bad_signature", p)
        if self._operators is not None and p.sender not in self._operators:
            return self._ignore("not_an_operator", p)
        last = self._last_sequence
        if last is not None and not last < p.sequence <= last + SEQUENCES_AHEAD:
            return self._ignore("stale_sequence", p)
        seen = (p.sender, p.attempt, p.sequence)
        if self._seen[seen] >= PROPOSALS_PER_SEQUENCE or len(self._tasks) >= QUEUED_PROPOSALS:
            return self._ignore("flood", p)
        self._seen[seen] += 1
        task = self._loop.create_task(self._follow(p))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _answer(self, rnd: Round, msg: Endorsement | Refusal) -> None:
        """Count a follower's answer to the round in progress, if it is one: signed by that operator,
        once, with a signature the gateway takes."""
        if msg.sender not in rnd.operators or msg.sender in rnd.signatures or msg.sender in rnd.refusals:
            return
        if isinstance(msg, Endorsement):
            if canonical(msg.signature) and signer_of(rnd.report, msg.signature) == msg.sender:
                rnd.count(msg.sender, signature=msg.signature)
        elif signer_of(network_message(self.domain, msg), msg.signature) == msg.sender:
            self.metrics.cosign_refusals_received.labels(reason=msg.reason).inc()
            log.warning("report %d refused by %s: %s", msg.sequence, msg.sender, msg.reason)
            rnd.count(msg.sender, refusal=msg)

    async def _follow(self, p: Proposal) -> None:
        """Check a leader's proposal in order (see the module's description) and answer it."""
        async with self._busy:
            current = slot(time.time(), self.round_seconds)  # what is kept per slot, kept for two
            for key in [key for key in self._seen if key[1] < current - 1]:
                del self._seen[key]
            for key in [key for key in self._endorsed if key[1] < current - 1]:
                del self._endorsed[key]
            if self._endorsed.get((p.sequence, p.attempt), p.payload_hash) != p.payload_hash:
                return self._ignore("conflicting", p)  # one report per sequence and slot: a second is not signed
            try:
                verdict = await asyncio.to_thread(self._judge, p)
            except Exception:
                self.metrics.loop_errors.labels(loop="cosign").inc()
                log.exception("checking proposal %d from %s failed", p.sequence, p.sender)
                return
            if verdict is None:
                return
            if verdict.ok:
                (signature,) = sign_report(self.domain, p.feed, p.sequence, p.as_of, p.payload, [self.signer])
                answer = Endorsement(
                    p.feed, p.sequence, p.attempt, p.as_of, p.payload_hash, self.signer.address, signature
                )
                self._endorsed[(p.sequence, p.attempt)] = p.payload_hash
                await asyncio.to_thread(self._store.record_endorsement, p, int(time.time()))
            else:
                self.metrics.cosign_refusals.labels(reason=verdict.reason).inc()
                log.warning(
                    "report %d proposed by %s refused: %s%s",
                    p.sequence,
                    p.sender,
                    verdict.reason,
                    f" (our data is as of {verdict.own_as_of})" if verdict.own_as_of else "",
                )
                refusal = Refusal(
                    p.feed, p.sequence, p.attempt, p.payload_hash, verdict.reason, verdict.own_as_of, as_of=p.as_of
                )
                answer = signed(self.domain, refusal, self.signer)
            await self._client.send(self.topic(KINDS[type(answer)], self.signer.address), encode(answer))

    def _judge(self, p: Proposal) -> Verdict | None:
        """The verdict on `p`, or None when it is ignored (counted by reason)."""
        self._operators = operators = self._loop_roster.current()
        if p.sender not in operators:
            return self._ignore("not_an_operator", p)
        if not in_slot(p.attempt, time.time(), self.round_seconds):
            return self._ignore("stale_attempt", p)
        if operators.leader(p.attempt) != p.sender:
            return self._ignore("not_the_leader", p)
        route = self._gateway.functions.feeds(self.feed).call()
        self._last_sequence = route.lastSequence
        if p.sequence != route.lastSequence + 1:
            return self._ignore("stale_sequence", p)
        now = self._w3.eth.get_block("latest")["timestamp"]
        if too_old(p.as_of, now, route.maxAge):
            return Verdict(False, "too_old")
        if self._max_clock_skew is None:
            self._max_clock_skew = self._gateway.functions.MAX_CLOCK_SKEW().call()
        if p.as_of > now + self._max_clock_skew:
            return Verdict(False, "from_future")
        return self.check(p)
