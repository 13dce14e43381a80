"""What every request needs, made once per app: the chain, its manifest, the index and its follower."""

from __future__ import annotations

import atexit
import json
import logging
import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any

from flask import current_app
from web3 import Web3

from backend.api.config import ApiConfig
from backend.core.chain import connect
from backend.core.manifest import Manifest
from backend.index import Indexer, IndexStore
from backend.services.leasing import LeaseService
from backend.services.receivables import ReceivablesService

log = logging.getLogger(__name__)


class YinqiContext:
    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._views: dict[tuple, Any] = {}

    @cached_property
    def w3(self) -> Web3:
        return connect(self.config.settings.rpc_url, self.config.settings.rpc_timeout)

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest.for_chain(self.config.settings, self.w3)

    @cached_property
    def store(self) -> IndexStore:
        return IndexStore(self.config.index_target)

    @cached_property
    def indexer(self) -> Indexer:
        indexer = Indexer(self.w3, self.manifest, self.store)
        indexer.sync()
        if self.config.follow:
            self._thread = threading.Thread(
                target=indexer.follow,
                args=(self._stop, self.config.follow_interval),
                name="index-follower",
                daemon=True,
            )
            self._thread.start()
            atexit.register(self.close)
        return indexer

    def index(self) -> IndexStore:
        """The index, brought up to the chain's head once per app (then the follower keeps it there)."""
        with self._lock:
            indexer = self.indexer
        if not self.config.follow:
            indexer.sync()
        return self.store

    def view(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(index, *args)` (a fold in :mod:`backend.index.views`), computed once per indexed block:
        many clients asking for the same list between two blocks share one fold. Callers must not
        mutate what it returns."""
        store = self.index()
        key = (fn.__name__, args, store.get("block"))
        with self._lock:
            if key in self._views:
                return self._views[key]
        value = fn(store, *args)
        with self._lock:
            self._views = {k: v for k, v in self._views.items() if k[2] == key[2]}  # older blocks' folds go
            self._views[key] = value
        return value

    @cached_property
    def receivables(self) -> ReceivablesService:
        return ReceivablesService(self.w3, self.manifest)

    @cached_property
    def leases(self) -> LeaseService:
        return LeaseService(self.w3, self.manifest)

    def credit_reasons(self) -> dict[str, Any]:
        path = self.config.reasons_file
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def ctx() -> YinqiContext:
    return current_app.extensions["yinqi"]
