"""What an auditor can know from chain events alone: every receivable's state rebuilt from the logs
of the Receivables contract, with no contract call. The event index builds on the same fold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3

from backend.core.manifest import Manifest

ZERO = "0x0000000000000000000000000000000000000000"


@dataclass
class ReceivableState:
    id: int
    debtor: str = ZERO
    holder: str | None = None
    amount: int = 0
    repaid: int = 0
    due_date: int = 0
    status: str = "None"
    financed: bool = False
    parent: int | None = None
    parts: list[int] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # event names, in order


def decoded_logs(w3: Web3, manifest: Manifest, name: str, from_block: int | None = None) -> list[Any]:
    """Every log of contract `name` since its deployment, decoded, in chain order."""
    contract = manifest.contract(w3, name)
    by_topic = {
        event_abi_to_log_topic(item): getattr(contract.events, item["name"])()
        for item in contract.abi
        if item.get("type") == "event"
    }
    start = manifest.record(name).block if from_block is None else from_block
    raw = w3.eth.get_logs({"address": contract.address, "fromBlock": start, "toBlock": "latest"})
    return [by_topic[bytes(log["topics"][0])].process_log(log) for log in raw if bytes(log["topics"][0]) in by_topic]


def replay_receivables(events: Iterable[Any]) -> dict[int, ReceivableState]:
    """Fold Receivables events into the state of every receivable."""
    states: dict[int, ReceivableState] = {}

    def state(rid: int) -> ReceivableState:
        return states.setdefault(rid, ReceivableState(id=rid))

    for event in events:
        name, args = event["event"], event["args"]
        rid = args.get("id", args.get("tokenId"))
        if rid is None:
            continue  # contract-wide events (terms, grace period, roles, pause)
        r = state(rid)
        r.history.append(name)
        if name == "ReceivableIssued":
            r.debtor, r.amount, r.due_date, r.status = args["debtor"], args["amount"], args["dueDate"], "Active"
        elif name == "ReceivablePartCreated":
            parent = state(args["parentId"])
            r.debtor, r.due_date, r.amount, r.status = parent.debtor, parent.due_date, args["amount"], "Active"
            r.parent = args["parentId"]
            parent.parts.append(rid)
        elif name == "ReceivableSplit":
            r.status = "Split"
        elif name == "Transfer":
            r.holder = None if args["to"] == ZERO else args["to"]
        elif name == "ReceivableFinanced":
            r.status, r.financed = "Financed", True
        elif name == "ReceivableRepaid":
            r.repaid = r.amount - args["outstanding"]
        elif name == "ReceivableSettled":
            r.status = "Settled"
        elif name == "ReceivableDefaulted":
            r.status = "Defaulted"
        elif name == "ReceivableCured":
            r.status = "Cured"
    return states
