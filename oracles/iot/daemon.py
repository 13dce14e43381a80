"""The IoT oracle: device telemetry from MQTT → rules → usage per lease period and risk flags on chain.

Flow: the gmqtt callback only queues the message and waits; a worker applies queued messages in
batches (:class:`~oracles.iot.store.DeviceStore`, one SQLite transaction) and only then lets the
callback return, which sends the PUBACK (``optimistic_acknowledgement=False``). A timer runs the
idle rule over every device, silent ones included. A flusher turns what the store holds and the
chain lacks — usage per (lease, period) and each flag change — into reports through the gateway,
via the outbox (:mod:`oracles.outbox`): a restart or ``kill -9`` at any point loses and duplicates
nothing. Alone, the oracle keeps a broker session (fixed client id, no clean start, 7-day expiry), so
messages that arrive while it is down wait for it. In a shared-subscription group each member's
session ends with its connection: the broker then gives a dead member's unacknowledged messages and
its share of new ones to the members still connected (a member with a lingering session would have
them queued for it instead); the group keeps receiving as long as one member runs. Members on one
host share the store file; flushing is serialised by a file lock.

One bad input stops nothing for the others: a report item that cannot be packed (a store row written
by an older version, say) is logged once, counted and left out while the rest go; a loop iteration
that raises is logged with its traceback and counted, and the loop goes on.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import signal
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from backend.core.accounts import signer_from_spec
from backend.core.chain import call_named, connect
from backend.core.codec import lease_payload, pack_lease_word
from backend.core.config import Settings
from backend.core.errors import ChainError, ConfigError, YinqiError
from backend.core.feeds import IOT_FEED
from backend.core.manifest import Manifest
from backend.core.statuses import RUNNING_LEASE
from oracles.cosign import CoSigner, NoQuorum, NotLeader, Proposal, Verdict
from oracles.errors import DataError
from oracles.gateway import ReportPublisher
from oracles.iot.agree import applied_items, check_iot
from oracles.iot.mqtt import TOPIC, FlowControlledClient, shared
from oracles.iot.mqtt import connect as mqtt_connect
from oracles.iot.rules import DEFAULT_RULES, RuleBook, RuleEngine
from oracles.iot.store import DeviceStore, LeaseInfo, Message, StoreReader
from oracles.metrics import OracleMetrics
from oracles.outbox import Outbox

log = logging.getLogger(__name__)

SESSION_EXPIRY = 7 * 86_400  # seconds the broker keeps our session (and queues messages) while we are down


@dataclass(frozen=True)
class IotOracleConfig:
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    group: str | None = None  # MQTT 5 shared subscription group: instances in one group split the fleet
    metrics_port: int | None = None  # serve Prometheus metrics on this port (None: not served)
    metrics_host: str = "127.0.0.1"
    client_id: str | None = "yinqi-iot-oracle"  # fixed, so the broker keeps our session across restarts
    # (None: one of this operator's own, from its address: co-signing operators each subscribe on their own)
    rules: Path = DEFAULT_RULES
    state: Path = Path(".yinqi/iot-oracle.sqlite")
    signer: str = "dev:8"  # dev:N on the local chain; env:NAME or keystore:PATH elsewhere
    flush_interval: float = 2.0  # seconds between report batches
    tick_interval: float = 30.0  # seconds between idle checks
    lease_refresh: float = 30.0  # seconds between re-reading which device is under which lease
    batch_max: int = 500  # messages per store transaction
    in_flight: int = 1000  # receive-maximum we advertise: unacknowledged messages the broker may send us
    words_per_report: int = 100
    connect_attempts: int = 8  # to the broker at start, with exponential backoff
    cosign_broker: str | None = None  # HOST:PORT of the operators' MQTT broker (None: signs alone, k = 1)
    round_seconds: float = 2.0  # a co-signing slot: each operator leads one in turn
    settings: Settings = field(default_factory=Settings.from_env)


class IotOracle:
    """The synchronous core: the store, the chain's leases, and pushing reports."""

    def __init__(self, config: IotOracleConfig) -> None:
        self.config = config
        self.store = DeviceStore(config.state, RuleEngine(RuleBook.load(config.rules)))
        self.w3 = connect(config.settings.rpc_url, config.settings.rpc_timeout)
        self.manifest = Manifest.for_chain(config.settings, self.w3)
        self.lease_contract = self.manifest.contract(self.w3, "EquipmentLease")
        self.outbox = Outbox(config.state)
        signer = signer_from_spec(config.signer, self.manifest.chain_id)
        self.metrics = OracleMetrics("iot_oracle")
        self.cosigner = None
        if config.cosign_broker:
            self.cosigner = CoSigner(
                self.w3,
                self.manifest,
                signer,
                IOT_FEED,
                config.state,
                self._agree,
                round_seconds=config.round_seconds,
                metrics=self.metrics,
            )
        self.publisher = ReportPublisher(
            self.w3, self.manifest, signer, self.outbox, IOT_FEED, metrics=self.metrics, cosigner=self.cosigner
        )
        self._sync_lock = threading.Lock()
        self.leases: dict[str, LeaseInfo] = {}
        self._leases_read_at = 0.0
        self._rules_mtime = config.rules.stat().st_mtime_ns
        self.chain_devices: set[str] = set()  # every device id the lease contract has seen offered
        self._devices_from_block = self.manifest.record("EquipmentLease").block
        self.errors: Counter[str] = Counter()  # loop iterations that raised, by loop
        self.skipped: set[str] = set()  # report items that cannot be packed (logged once each)
        with self._flush_lock():
            if recovered := self.publisher.recover():
                log.info("settled %d report(s) left pending by the last run", recovered)
        self.refresh_leases()

    def close(self) -> None:
        """Close the store and the outbox once no flush is running (one in a thread whose task was
        cancelled at shutdown finishes recording what it sent first). Not from the event loop a
        co-signed flush waits on: call it in a thread."""
        with self._flush_lock():
            self.store.close()
            self.outbox.close()

    def refresh_leases(self) -> None:
        """Which device is under a running lease, as the chain says now: the devices come from the lease
        contract's offers (and the rules file's overrides), not from a list kept by hand. The oracle
        takes messages from those devices only, and one silent since its lease began is timed idle
        from then. The rules file is re-read first if it changed."""
        self.reload_rules()
        self._learn_devices()
        engine = self.store.engine
        leases = {}
        for device in sorted(self.chain_devices | set(engine.book.overrides)):
            found = call_named(self.lease_contract.functions.openLeaseOf(device))
            if not found.found:
                continue
            lease = self.lease_contract.functions.leaseOf(found.leaseId).call()
            if lease.status in RUNNING_LEASE:
                leases[device] = LeaseInfo(found.leaseId, lease.start, lease.periodSeconds, lease.periods)
        if leases != self.leases:
            log.info("devices under lease: %s", {d: i.lease_id for d, i in leases.items()})
        engine.devices = set(engine.book.overrides) | set(leases)
        if silent := self.store.expect({device: float(info.start) for device, info in leases.items()}):
            log.info("leased devices not heard from yet, timed idle from their lease's start: %s", silent)
        self.leases = leases
        self._leases_read_at = time.monotonic()

    def _learn_devices(self) -> None:
        """Add the device ids of leases offered since the last look (the contract's LeaseOffered events)."""
        latest = self.w3.eth.block_number
        if self._devices_from_block > latest:
            return
        offered = self.lease_contract.events.LeaseOffered()
        for event in offered.get_logs(from_block=self._devices_from_block, to_block=latest):
            self.chain_devices.add(event["args"]["deviceId"])
        self._devices_from_block = latest + 1

    def reload_rules(self) -> bool:
        """Re-read the rules file if it changed since it was read; True if new rules apply. A file that
        does not read (bad TOML, a setting of the wrong type) is logged and the rules in force stay."""
        try:
            mtime = self.config.rules.stat().st_mtime_ns
        except OSError as exc:
            log.error("rules file %s unreadable, keeping the rules in force: %s", self.config.rules, exc)
            return False
        if mtime == self._rules_mtime:
            return False
        self._rules_mtime = mtime
        try:
            book = RuleBook.load(self.config.rules)
        except DataError as exc:
            self.failed("rules")
            log.error("%s; keeping the rules in force", exc)
            return False
        engine = self.store.engine
        engine.book = book
        engine.devices = set(book.overrides) | set(self.leases)
        log.info("rules file %s re-read: %d device override(s)", self.config.rules, len(book.overrides))
        return True

    def flush(self) -> int:
        """Put on chain what the store holds and the chain lacks; how many reports that took. Each
        report is as of the time the store was complete up to when it was read (capped at the chain's)."""
        if time.monotonic() - self._leases_read_at > self.config.lease_refresh:
            self.refresh_leases()
        with self._flush_lock():
            if self.cosigner is not None:
                self._sync()
                if not self.cosigner.leads_now():
                    return 0  # another operator leads this slot: this one checks and signs its proposals
            self.publisher.recover()  # first: what it drops as too old is recomputed below, in order
            known = self.outbox.confirmed_values(IOT_FEED)
            usage: dict[tuple[int, int], int] = {}  # what packs: an item that does not is left out
            words: list[tuple[int, str, str]] = []
            running = {info.lease_id for info in self.leases.values()}
            for (lease_id, k), hours in sorted(self.store.usage().items()):
                if self.cosigner is not None and lease_id not in running:
                    continue  # the lease takes no more reports: the other operators do not follow it either
                key = f"usage:{lease_id}:{k}"
                try:
                    hundredths = int(hours * 100)
                    word = pack_lease_word(lease_id, k, hundredths)
                except (ValueError, OverflowError, TypeError) as exc:
                    self._skip(key, exc)
                    continue
                usage[(lease_id, k)] = hundredths
                if known.get(key) != str(hundredths):
                    words.append((word, key, str(hundredths)))
            if self.cosigner is not None:  # co-signed: each running lease's flags as they stand now
                words += self._flag_states(known, usage)
            for change in self.store.flag_changes() if self.cosigner is None else ():
                lease = self.leases.get(change["device_id"])
                key = f"flags:{change['device_id']}:{change['n']}"
                if lease is None or change["at"] < lease.start or key in known:
                    continue
                k = lease.period_at(change["at"])
                k = lease.periods if k is None else k  # beyond the term: the flags still apply
                try:  # usage left out goes as 0: the lease only ever raises a period's usage
                    word = pack_lease_word(lease.lease_id, k, usage.get((lease.lease_id, k), 0), change["flags"])
                except (ValueError, OverflowError, TypeError) as exc:
                    self._skip(key, exc)
                    continue
                words.append((word, key, str(change["flags"])))
            observed = self.store.observed_at()  # read after the data: everything above was applied by then
            if observed is None:  # a store that has not recorded its time yet
                return 0
            if not words:
                self.metrics.data_lag.set(max(self.publisher.chain_now() - observed, 0))
                return 0
            now = self.publisher.chain_now()
            self.metrics.data_lag.set(max(now - observed, 0))
            as_of = min(int(observed), now)
            size = self.config.words_per_report
            for start in range(0, len(words), size):
                batch = words[start : start + size]
                items = {key: value for _, key, value in batch}
                try:
                    self.publisher.publish(lease_payload(w for w, _, _ in batch), items, as_of=as_of)
                except (NoQuorum, NotLeader) as exc:
                    log.warning("reports wait for the next slot this operator leads: %s", exc)
                    return start // size
            return -(-len(words) // size)

    def _flag_states(self, known: dict[str, str], usage: dict[tuple[int, int], int]) -> list[tuple[int, str, str]]:
        """Co-signed reports carry each running lease's flags as its device has them now, once they
        differ from the chain's (``flags:<lease>``): operators agree on states, which each computes
        alike, not on the changes that led there, which each numbers and times its own way. A change
        that is undone before the next report is not sent."""
        words = []
        observed = self.store.observed_at() or 0.0
        for device, lease in sorted(self.leases.items()):
            flags, key = self.store.current_flags(device), f"flags:{lease.lease_id}"
            if known.get(key, "0") == str(flags):
                continue
            k = lease.period_at(observed)
            k = lease.periods - 1 if k is None else k
            word = pack_lease_word(lease.lease_id, k, usage.get((lease.lease_id, k), 0), flags)
            words.append((word, key, str(flags)))
        return words

    def _leases_by_id(self) -> dict[int, tuple[str, LeaseInfo]]:
        return {info.lease_id: (device, info) for device, info in self.leases.items()}

    def _agree(self, proposal: Proposal) -> Verdict:
        """The co-signer's check of another leader's proposal, against this operator's own store (read
        on a connection of its own) after recording what the chain says the others landed."""
        self._sync()
        reader = StoreReader(self.config.state)
        try:
            return check_iot(reader, self._leases_by_id(), proposal, self.lease_contract.functions.leaseOf)
        finally:
            reader.close()

    def _sync(self) -> None:
        """Record the reports the other operators landed, in this operator's item keys."""
        with self._sync_lock:
            self.publisher.sync(partial(applied_items, self.lease_contract))

    def failed(self, loop: str) -> int:
        """Count an iteration of `loop` that raised; how many have so far."""
        self.errors[loop] += 1
        self.metrics.loop_errors.labels(loop=loop).inc()
        return self.errors[loop]

    def _skip(self, key: str, exc: Exception) -> None:
        """Leave out a report item that cannot be packed; logged and counted once per item."""
        if key not in self.skipped:
            self.skipped.add(key)
            self.metrics.rejected({"unpackable_item": 1})
            log.error("report item %s cannot be packed (%s): left out, the others still go", key, exc)

    @contextmanager
    def _flush_lock(self):
        with open(f"{self.config.state}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class _RateLimitedLog:
    """At most one log line per rejection reason per `every` seconds, with the count since."""

    def __init__(self, every: float = 10.0) -> None:
        self.every, self._last, self._pending = every, {}, {}

    def rejected(self, reasons: dict[str, int]) -> None:
        now = time.monotonic()
        for reason, n in reasons.items():
            self._pending[reason] = self._pending.get(reason, 0) + n
            if now - self._last.get(reason, -1e9) >= self.every:
                log.warning("rejected %d message(s): %s", self._pending.pop(reason), reason)
                self._last[reason] = now


async def run(config: IotOracleConfig, *, shutdown_trigger: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `shutdown_trigger`): what was received is applied and pushed first."""
    stop = shutdown_trigger or asyncio.Event()
    loop = asyncio.get_running_loop()
    if shutdown_trigger is None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    if config.cosign_broker and config.group:
        raise ConfigError("a co-signing operator subscribes to the whole fleet on its own: no --group")
    oracle = await asyncio.to_thread(IotOracle, config)
    client_id = config.client_id or "yinqi-iot-oracle"
    if config.cosign_broker and client_id == "yinqi-iot-oracle":  # each operator a session of its own
        client_id = f"yinqi-iot-oracle-{oracle.publisher.signer.address.lower()}"
    if config.metrics_port is not None:
        oracle.metrics.serve(config.metrics_port, config.metrics_host)
    queue: asyncio.Queue[tuple[Message, asyncio.Future]] = asyncio.Queue()
    handled = [0]  # messages this instance applied (with a shared subscription, its share)
    subscribed = asyncio.Event()

    async def on_message(client, topic, payload, qos, properties):  # thin: queue it, await the commit
        done = loop.create_future()
        queue.put_nowait((Message(topic, payload), done))
        return await done

    def on_connect(client, flags, rc, properties):
        client.subscribe(shared(TOPIC, config.group), qos=1)

    client = FlowControlledClient(
        client_id,
        clean_session=False,
        optimistic_acknowledgement=False,
        session_expiry_interval=0 if config.group else SESSION_EXPIRY,
        receive_maximum=config.in_flight,
    )
    client.on_message = on_message
    client.on_connect = on_connect
    client.on_subscribe = lambda *a: subscribed.set()
    tasks = [
        asyncio.create_task(_worker(oracle, queue, config, handled), name="worker"),
        asyncio.create_task(
            _every(config.tick_interval, stop, "idle-timer", lambda: _tick(oracle), oracle.failed), name="idle-timer"
        ),
        asyncio.create_task(
            _every(config.flush_interval, stop, "flusher", lambda: _flush(oracle), oracle.failed), name="flusher"
        ),
    ]
    try:
        if oracle.cosigner is not None:
            host, _, port = config.cosign_broker.rpartition(":")
            await oracle.cosigner.start(host, int(port))
            tasks.append(asyncio.create_task(oracle.cosigner.halt_when(stop), name="halt"))
        await mqtt_connect(client, config.broker_host, config.broker_port, attempts=config.connect_attempts, stop=stop)
        await asyncio.wait_for(subscribed.wait(), timeout=30)
        print(
            json.dumps({"ready": True, "devices": len(oracle.store.engine.devices), "leases": len(oracle.leases)}),
            flush=True,
        )
        await stop.wait()
        log.info("stopping: finishing what was received")
        while not queue.empty():
            await asyncio.sleep(0.05)
        await client.disconnect()
        if oracle.cosigner is None:  # co-signing, what was received is in the store: the next leader sends it
            await _guarded("flusher", lambda: _flush(oracle), oracle.failed)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if oracle.cosigner is not None:
            await oracle.cosigner.stop()
        counters = oracle.store.counters()
        await asyncio.to_thread(oracle.close)
        stopped = {"stopped": True, "handled": handled[0], "counters": counters}
        print(json.dumps({**stopped, "errors": oracle.errors, "skipped_items": len(oracle.skipped)}), flush=True)


async def _worker(oracle: IotOracle, queue: asyncio.Queue, config: IotOracleConfig, handled: list[int]) -> None:
    limiter = _RateLimitedLog()
    while True:
        batch = [await queue.get()]
        while len(batch) < config.batch_max and not queue.empty():
            batch.append(queue.get_nowait())
        delay = 0.1
        while True:
            try:
                result = await asyncio.to_thread(oracle.store.apply, [m for m, _ in batch], time.time(), oracle.leases)
                break
            except Exception:  # the store is the only copy: never drop the batch, never ack it unapplied
                oracle.failed("worker")
                log.exception("applying %d message(s) failed; retrying in %.1fs", len(batch), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        handled[0] += len(batch)
        limiter.rejected(result.rejected or {})
        oracle.metrics.rejected(result.rejected or {})
        for change in result.changes or ():
            _log_change(change)
        for _, done in batch:
            if not done.done():
                done.set_result(0)


async def _tick(oracle: IotOracle) -> None:
    for change in await asyncio.to_thread(oracle.store.tick, time.time()):
        _log_change(change)


async def _flush(oracle: IotOracle) -> None:
    try:
        if reports := await asyncio.to_thread(oracle.flush):
            log.info("pushed %d report(s)", reports)
    except (ChainError, OSError) as exc:
        log.warning("chain unavailable (%s); the reports wait in the outbox", exc)
    except YinqiError as exc:  # e.g. a report the chain refused: it stays pending, to be looked at
        log.error("pushing reports failed: %s", exc)


async def _every(seconds: float, stop: asyncio.Event, name: str, action, failed) -> None:
    """`action` every `seconds` until `stop`; an iteration that raises does not end the loop."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            await _guarded(name, action, failed)


async def _guarded(name: str, action, failed) -> None:
    """Run `action`; if it raises, log the traceback and count it with `failed(name)` (the loop goes on)."""
    try:
        await action()
    except Exception:
        log.exception("%s failed (%d time(s) so far); it carries on", name, failed(name))


def _log_change(change) -> None:
    verb = "raised" if change.raised else "cleared"
    log.warning("device %s: %s %s (%s)", change.device_id, change.flag.name, verb, change.detail)
