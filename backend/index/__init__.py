"""The event index: every log of the deployed contracts, decoded, in SQLite — a cache the API lists,
filters and computes KPIs from, rebuildable from the chain at any time."""

from backend.index.follower import Indexer
from backend.index.store import IndexStore

__all__ = ["IndexStore", "Indexer"]
