"""Follows the manifest's contracts from their deploy block into the :class:`IndexStore`.

Resumes from its cursor after a restart, re-reading the last few blocks first (a reorg may have
replaced them); if the block at the cursor no longer has the hash it had, it rewinds further; if the
chain or the deployment changed (a reset dev chain, a fresh deploy), it starts over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from eth_utils import event_abi_to_log_topic
from hexbytes import HexBytes
from web3 import Web3

from backend.core.codec import split_words, unpack_credit_word
from backend.core.manifest import Manifest
from backend.index.store import Event, IndexStore

log = logging.getLogger(__name__)

REORG_DEPTH = 12  # blocks re-read on start and after a detected reorg
CHUNK = 2_000  # blocks per eth_getLogs
SUBJECT_ARGS = {
    "Receivables": ("id", "tokenId"),
    "EquipmentLease": ("leaseId",),
    "CreditLine": ("merchant",),
    "ParticipantRegistry": ("account",),
}


# How events are stored; an index in another format is rebuilt from the chain. 2: integers exact at any
# size (1 kept those beyond 2^53 as strings, which every reader then had to know).
INDEX_FORMAT = 2


class Indexer:
    def __init__(self, w3: Web3, manifest: Manifest, store: IndexStore) -> None:
        self.w3, self.manifest, self.store = w3, manifest, store
        self._decoders: dict[tuple[str, bytes], tuple[str, Any]] = {}
        for name in manifest.contracts:
            contract = manifest.contract(w3, name)
            for item in contract.abi:
                if item.get("type") == "event":
                    key = (contract.address.lower(), event_abi_to_log_topic(item))
                    self._decoders[key] = (name, getattr(contract.events, item["name"])())
        self._addresses = sorted({address for address, _ in self._decoders})
        identity = f"v{INDEX_FORMAT}:{manifest.chain_id}:{manifest.deploy_block}:{','.join(self._addresses)}"
        if store.get("deployment") != identity:
            with store.transaction():
                store.clear()
                store.put("deployment", identity)
        self._rewind(REORG_DEPTH)

    @property
    def indexed_block(self) -> int:
        return int(self.store.get("block") or self.manifest.deploy_block - 1)

    def sync(self) -> int:
        """Index every block up to the chain's head; how many events were added."""
        head = self.w3.eth.block_number
        cursor = self.indexed_block
        if cursor > head or (cursor >= self.manifest.deploy_block and not self._same_block(cursor)):
            log.warning("block %d changed under the index (reorg or reset); re-reading", cursor)
            self._rewind(REORG_DEPTH if cursor <= head else cursor - head + REORG_DEPTH)
            cursor = self.indexed_block
        added = 0
        start = cursor + 1
        while start <= head:
            end = min(start + CHUNK - 1, head)
            logs = self.w3.eth.get_logs(
                {"address": [Web3.to_checksum_address(a) for a in self._addresses], "fromBlock": start, "toBlock": end}
            )
            events = self._decode(logs)
            end_hash = self.w3.eth.get_block(end)["hash"].hex()
            with self.store.transaction():
                added += self.store.add(events)
                self.store.put("block", str(end))
                self.store.put("hash", end_hash)
            start = end + 1
        return added

    def follow(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Sync every `interval` seconds until `stop` is set; chain errors are logged and retried."""
        while not stop.is_set():
            try:
                if added := self.sync():
                    log.info("indexed %d event(s) up to block %d", added, self.indexed_block)
            except Exception as exc:
                log.warning("index sync failed (%s); retrying", exc)
            stop.wait(interval)

    def _same_block(self, number: int) -> bool:
        stored = self.store.get("hash")
        return stored is None or self.w3.eth.get_block(number)["hash"].hex() == stored

    def _rewind(self, depth: int) -> None:
        block = max(self.indexed_block - depth, self.manifest.deploy_block - 1)
        with self.store.transaction():
            self.store.drop_after(block)
            self.store.put("block", str(block))
            self.store.put("hash", self.w3.eth.get_block(block)["hash"].hex() if block >= 0 else "")

    def _decode(self, logs) -> list[Event]:
        timestamps: dict[int, int] = {}
        events = []
        for raw in logs:
            key = (raw["address"].lower(), bytes(raw["topics"][0]))
            if key not in self._decoders:
                continue
            contract, decoder = self._decoders[key]
            decoded = decoder.process_log(raw)
            number = raw["blockNumber"]
            if number not in timestamps:
                timestamps[number] = self.w3.eth.get_block(number)["timestamp"]
            args = {k: _json(v) for k, v in decoded["args"].items()}
            parties = {v.lower() for v in args.values() if isinstance(v, str) and Web3.is_address(v) and len(v) == 42}
            if decoded["event"] == "ScoresApplied":  # one event, many merchants: name them all
                words = split_words(bytes(decoded["args"]["updates"]))
                parties |= {unpack_credit_word(word).merchant.lower() for word in words}
            subject = next((args[a] for a in SUBJECT_ARGS.get(contract, ()) if a in args), None)
            events.append(
                Event(
                    block_number=number,
                    block_hash=raw["blockHash"].hex(),
                    log_index=raw["logIndex"],
                    tx_hash="0x" + raw["transactionHash"].hex().removeprefix("0x"),
                    timestamp=timestamps[number],
                    contract=contract,
                    event=decoded["event"],
                    subject=None if subject is None else str(subject).lower(),
                    parties=tuple(sorted(parties)),
                    args=args,
                )
            )
        return events


def _json(value: Any) -> Any:
    """A decoded argument as JSON: bytes as 0x-hex, integers as they are (exact at any size: the API,
    not the index, makes them safe for JavaScript)."""
    if isinstance(value, (bytes, bytearray, HexBytes)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _json(v) for k, v in value.items()}
    return value
