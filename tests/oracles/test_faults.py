"""Faults, scripted: while the IoT oracle works, the broker restarts and the chain (anvil) restarts
from its state file; then the event index restarts. Afterwards every flag change and usage report is
on chain exactly once, no hour of work is lost, and the index holds every event once."""

import asyncio
import time

from backend.index import Indexer, IndexStore
from backend.index.store import EventFilter
from oracles.iot.simulator import simulate
from tests.oracles.test_iot_daemon import (  # noqa: F401 - world is a fixture
    Daemon,
    assert_chain_matches_store,
    chain_flag_changes,
    chain_usage,
    store_of,
    wait_for,
    world,
)


def test_broker_and_chain_restarts_lose_and_duplicate_nothing(world, broker, local_chain, tmp_path):  # noqa: F811
    w3, manifest, devices, leases, rules, env = world
    daemon = Daemon(tmp_path, broker, rules, env).start()

    def run(seconds):
        return asyncio.run(simulate(broker.host, broker.port, devices, rate=50, duration=seconds, speedup=3600))

    try:
        run(1.5)
        broker.stop()  # the broker goes down and comes back (its persistence keeps the oracle's session)
        time.sleep(1)
        broker.start()
        time.sleep(2)  # gmqtt reconnects every second
        run(1.5)
        local_chain.stop()  # the chain goes down: reports wait in the outbox
        run(1.5)
        local_chain.start()  # anvil reloads its state file: same blocks, same hashes
        run(1)
        store = store_of(daemon.state, rules)
        wait_for(lambda: _settled(w3, manifest, leases, store), 90, "every report on chain")
        daemon.stop()
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    assert_chain_matches_store(w3, manifest, leases, devices, store)
    _, reports = chain_usage(w3, manifest)

    # the index, restarted, holds every event once
    path = tmp_path / "index.sqlite"
    Indexer(w3, manifest, IndexStore(path)).sync()
    again = Indexer(w3, manifest, IndexStore(path))  # a restart re-reads its last blocks
    again.sync()
    indexed = again.store.query(EventFilter(contract="EquipmentLease", events=("UsageReported",)))
    assert len(indexed) == reports
    keys = [(e.block_number, e.log_index) for e in again.store.query()]
    assert len(keys) == len(set(keys))


def _settled(w3, manifest, leases, store) -> bool:
    usage, _ = chain_usage(w3, manifest)
    flags = chain_flag_changes(w3, manifest, leases)
    wanted = {key: int(hours * 100) for key, hours in store.usage().items()}
    return usage == wanted and all(len(flags[d]) == len(store.flag_changes(d)) for d in leases)
