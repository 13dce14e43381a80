"""What the API lists and counts, folded from indexed events alone (no chain call): participants,
receivables, credit lines, leases, alerts, KPIs and their time series. Live values (a line's interest
up to this second, a lease's periods) are the API's to read from the chain."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.core.codec import split_words, unpack_credit_word
from backend.core.enums import LeaseStatus, LineStatus, Refusal, RiskFlag, Role
from backend.core.money import UNIT
from backend.index.audit import replay_receivables
from backend.index.store import EventFilter, IndexStore

_RUNNING = (LeaseStatus.ACTIVE.label, LeaseStatus.FROZEN.label)  # leases that count as active
_ENDED = (LeaseStatus.RECALLED.label, LeaseStatus.CLOSED.label, LeaseStatus.CANCELLED.label)  # flags no longer matter


def role_names(mask: int) -> list[str]:
    return [role.name for role in Role if mask & role]


def flag_names(mask: int) -> list[str]:
    return [flag.name for flag in RiskFlag if mask & flag]


def _dicts(store: IndexStore, where: EventFilter) -> list[dict[str, Any]]:
    return [
        {"event": e.event, "args": e.args, "timestamp": e.timestamp, "block": e.block_number, "tx": e.tx_hash}
        for e in store.query(where)
    ]


def participants(store: IndexStore) -> list[dict[str, Any]]:
    people: dict[str, dict[str, Any]] = {}
    for e in _dicts(store, EventFilter(contract="ParticipantRegistry")):
        a = e["args"]
        if "account" not in a:
            continue
        p = people.setdefault(a["account"], {"address": a["account"], "name": "", "roles": [], "suspended": False})
        if e["event"] == "ParticipantOnboarded":
            p.update(name=a["name"], roles=role_names(a["roles"]), onboarded_at=e["timestamp"])
        elif e["event"] == "ParticipantRolesChanged":
            p["roles"] = role_names(a["newRoles"])
        elif e["event"] == "ParticipantSuspended":
            p["suspended"] = True
        elif e["event"] == "ParticipantReinstated":
            p["suspended"] = False
    return list(people.values())


def receivables(store: IndexStore, party: str | None = None) -> list[dict[str, Any]]:
    states = replay_receivables(_dicts(store, EventFilter(contract="Receivables")))
    rows = []
    for r in sorted(states.values(), key=lambda r: r.id):
        row = asdict(r)
        row["outstanding"] = r.amount - r.repaid
        if party is None or party.lower() in {str(r.debtor).lower(), str(r.holder).lower()}:
            rows.append(row)
    return rows


def credit_lines(store: IndexStore) -> list[dict[str, Any]]:
    lines: dict[str, dict[str, Any]] = {}

    def line(merchant: str) -> dict[str, Any]:
        key = merchant.lower()
        return lines.setdefault(
            key,
            {
                "merchant": merchant,
                "limit": 0,
                "score": 0,
                "rate_bps": 0,
                "drawn": 0,
                "pending_limit": 0,  # a raise beyond the bank's step, held for the bank to confirm
                "status": LineStatus.ACTIVE.label,
                "scored_at": None,
                "model_hash": None,
            },
        )

    held: dict[tuple[str, str], int] = {}  # (tx, merchant) → the raise held in that report's transaction
    for e in _dicts(store, EventFilter(contract="CreditLine")):
        a, name = e["args"], e["event"]
        if name == "ScoresApplied":  # after the report's LimitIncreaseHeld events, in the same transaction
            for word in split_words(bytes.fromhex(a["updates"][2:])):
                update = unpack_credit_word(word)
                row = line(update.merchant.lower())
                row.update(score=update.score, rate_bps=update.rate_bps, scored_at=a["asOf"], model_hash=a["modelHash"])
                if (e["tx"], update.merchant.lower()) not in held:  # a held raise leaves the limit as it was
                    row.update(limit=update.limit_whole * UNIT, pending_limit=0)
        elif name in ("Drawn", "Repaid"):
            line(a["merchant"])["drawn"] = int(a["drawn"])
        elif name == "LineFrozen":
            line(a["merchant"])["status"] = LineStatus.FROZEN.label
        elif name == "LineUnfrozen":
            line(a["merchant"])["status"] = LineStatus.ACTIVE.label
        elif name == "LineDefaulted":
            line(a["merchant"])["status"] = LineStatus.DEFAULTED.label
        elif name == "LimitIncreaseHeld":
            line(a["merchant"])["pending_limit"] = held[e["tx"], a["merchant"].lower()] = int(a["requested"])
        elif name == "LimitIncreaseConfirmed":
            line(a["merchant"]).update(limit=int(a["limit"]), pending_limit=0)
    return list(lines.values())


_LEASE_STATUS_OF = {  # the status each of these events leaves a lease in
    "LeaseFrozen": LeaseStatus.FROZEN,
    "LeaseUnfrozen": LeaseStatus.ACTIVE,
    "LeaseDefaulted": LeaseStatus.DEFAULTED,
    "LeaseRecalled": LeaseStatus.RECALLED,
    "LeaseClosed": LeaseStatus.CLOSED,
    "LeaseOfferCancelled": LeaseStatus.CANCELLED,
    "LeaseOfferExpired": LeaseStatus.CANCELLED,
}


def leases(store: IndexStore, party: str | None = None) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for e in _dicts(store, EventFilter(contract="EquipmentLease")):
        a, name = e["args"], e["event"]
        if "leaseId" not in a:
            continue
        if name == "LeaseOffered":
            terms = a["terms"]
            rows[a["leaseId"]] = {
                "id": a["leaseId"],
                "device_id": a["deviceId"],
                "lessor": a["lessor"],
                "lessee": a["lessee"],
                "status": LeaseStatus.OFFERED.label,
                "flags": [],
                "period_seconds": terms["periodSeconds"],
                "periods": terms["periods"],
                "deposit": int(terms["deposit"]),
                "billed": 0,
                "rent_billed": 0,
                "rent_paid": 0,
                "usage_hundredths": 0,
                "offered_at": e["timestamp"],
            }
            continue
        row = rows.get(a["leaseId"])
        if row is None:
            continue
        if name == "LeaseAccepted":
            row.update(status=LeaseStatus.ACTIVE.label, start=a["start"])
        elif name == "RiskFlagsChanged":
            row["flags"] = flag_names(a["flags"])
        elif name == "RentBilled":
            row["billed"] += 1
            row["rent_billed"] += int(a["rent"])
        elif name == "RentPaid" or name == "PeriodAssigned":
            row["rent_paid"] += int(a["amount"])
        elif name == "UsageReported":
            row.setdefault("_usage", {})[a["period"]] = int(a["usage"])
            row["usage_hundredths"] = sum(row["_usage"].values())
        elif name in _LEASE_STATUS_OF:
            row["status"] = _LEASE_STATUS_OF[name].label
    out = []
    for row in rows.values():
        row.pop("_usage", None)
        row["outstanding"] = row["rent_billed"] - row["rent_paid"]
        if party is None or party.lower() in (row["lessor"].lower(), row["lessee"].lower()):
            out.append(row)
    return sorted(out, key=lambda r: r["id"])


def alerts(store: IndexStore, open_only: bool = True) -> list[dict[str, Any]]:
    """Every risk-flag change of a lease (newest first); `open_only`: leases whose flags are raised now."""
    current = {row["id"]: row for row in leases(store)}
    out = []
    for e in store.query(EventFilter(contract="EquipmentLease", events=("RiskFlagsChanged",)), newest_first=True):
        lease = current.get(e.args["leaseId"])
        if lease is None or (open_only and (not lease["flags"] or lease["status"] in _ENDED)):
            continue
        raised = flag_names(e.args["flags"] & ~e.args["previous"])
        cleared = flag_names(e.args["previous"] & ~e.args["flags"])
        out.append(
            {
                "lease_id": lease["id"],
                "device_id": lease["device_id"],
                "lessee": lease["lessee"],
                "raised": raised,
                "cleared": cleared,
                "flags": flag_names(e.args["flags"]),
                "lease_status": lease["status"],
                "timestamp": e.timestamp,
                "block": e.block_number,
                "tx": e.tx_hash,
            }
        )
    if open_only:  # one row per lease: its latest change
        seen, latest = set(), []
        for row in out:
            if row["lease_id"] not in seen:
                seen.add(row["lease_id"])
                latest.append(row)
        out = latest
    return out


@dataclass
class Kpis:
    financing_applications: int = 0
    financing_approvals: int = 0
    approval_rate: float | None = None
    financed_volume: int = 0  # face value financed, units
    advances_paid: int = 0  # units
    application_to_cash_seconds: float | None = None  # median; 0: the advance comes in the same transaction
    issue_to_cash_seconds: float | None = None  # median, from the receivable's issue to its financing
    discounts_charged: int = 0  # discount the pool kept on the receivables it financed, units
    fees_charged: int = 0  # financing fees, units
    advance_rate: float | None = None  # advances paid / face value financed: what suppliers got for their receivables
    defaulted_financed: int = 0  # outstanding of financed receivables in default and not cured, units
    npl_rate: float | None = None  # defaulted (not cured) / financed volume (receivables)
    defaults_cured: int = 0  # defaulted receivables later repaid in full or recovered
    recovered: int = 0  # recovered after default: late repayments and recoveries the bank recorded, units
    written_off: int = 0  # given up on the recoveries the bank recorded, units
    credit_limits: int = 0
    credit_drawn: int = 0
    credit_utilisation: float | None = None
    credit_lines_defaulted: int = 0
    leases_active: int = 0
    leases_with_open_flags: int = 0
    leases_defaulted: int = 0
    refusals: dict[str, int] = field(default_factory=dict)


def kpis(store: IndexStore) -> Kpis:
    k = Kpis()
    issued_at: dict[int, int] = {}
    financed: set[int] = set()
    to_cash: list[int] = []
    same_tx: list[int] = []
    applied_tx: dict[str, int] = {}
    in_default: dict[int, int] = {}  # financed receivables in default → their outstanding
    defaulted: set[int] = set()
    for e in store.query(EventFilter(contract="Receivables")):
        a = e.args
        if e.event in ("ReceivableIssued", "ReceivablePartCreated"):
            issued_at.setdefault(a["id"], issued_at.get(a.get("parentId"), e.timestamp))
        elif e.event == "FinancingApplied":
            applied_tx[e.tx_hash] = e.timestamp
        elif e.event == "ReceivableFinanced":
            k.financing_approvals += 1
            k.financed_volume += int(a["amount"])
            k.advances_paid += int(a["advance"])
            k.discounts_charged += int(a["discount"])
            k.fees_charged += int(a["fee"])
            financed.add(a["id"])
            to_cash.append(e.timestamp - issued_at.get(a["id"], e.timestamp))
        elif e.event == "FinancingRefused":
            reason = Refusal(a["reason"]).label
            k.refusals[reason] = k.refusals.get(reason, 0) + 1
        elif e.event == "ReceivableDefaulted":
            defaulted.add(a["id"])
            if a["id"] in financed:
                in_default[a["id"]] = int(a["outstanding"])
        elif e.event == "ReceivableRepaid" and a["id"] in defaulted:  # a late repayment, after default
            k.recovered += int(a["amount"])
            if a["id"] in in_default:
                in_default[a["id"]] = int(a["outstanding"])
        elif e.event == "ReceivableCured":
            k.defaults_cured += 1
            k.recovered += int(a["recovered"])
            k.written_off += int(a["writtenOff"])
            in_default.pop(a["id"], None)
    for e in store.query(EventFilter(contract="FinancingPool", events=("Disbursed",))):
        if e.tx_hash in applied_tx:
            same_tx.append(e.timestamp - applied_tx[e.tx_hash])
    k.financing_applications = k.financing_approvals + sum(k.refusals.values())
    k.approval_rate = k.financing_approvals / k.financing_applications if k.financing_applications else None
    k.defaulted_financed = sum(in_default.values())
    k.npl_rate = k.defaulted_financed / k.financed_volume if k.financed_volume else None
    k.advance_rate = k.advances_paid / k.financed_volume if k.financed_volume else None
    k.application_to_cash_seconds = statistics.median(same_tx) if same_tx else None
    k.issue_to_cash_seconds = statistics.median(to_cash) if to_cash else None
    lines = credit_lines(store)
    k.credit_limits = sum(line["limit"] for line in lines)
    k.credit_drawn = sum(line["drawn"] for line in lines)
    k.credit_utilisation = k.credit_drawn / k.credit_limits if k.credit_limits else None
    k.credit_lines_defaulted = sum(line["status"] == LineStatus.DEFAULTED.label for line in lines)
    all_leases = leases(store)
    k.leases_active = sum(row["status"] in _RUNNING for row in all_leases)
    k.leases_with_open_flags = sum(bool(row["flags"]) and row["status"] not in _ENDED for row in all_leases)
    k.leases_defaulted = sum(row["status"] == LeaseStatus.DEFAULTED.label for row in all_leases)
    return k


SERIES_EVENTS = {
    "applications": ("Receivables", ("ReceivableFinanced", "FinancingRefused")),
    "approvals": ("Receivables", ("ReceivableFinanced",)),
    "defaults": ("Receivables", ("ReceivableDefaulted",)),
    "cures": ("Receivables", ("ReceivableCured",)),
    "credit_draws": ("CreditLine", ("Drawn",)),
    "flags_raised": ("EquipmentLease", ("RiskFlagsChanged",)),
}


def series(store: IndexStore, bucket_seconds: int) -> dict[str, Any]:
    """Per time bucket: applications, approvals (and the rate), financed volume, defaults, credit draws,
    lease flags raised."""
    buckets: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, (contract, events) in SERIES_EVENTS.items():
        for e in store.query(EventFilter(contract=contract, events=events)):
            if name == "flags_raised" and not (e.args["flags"] & ~e.args["previous"]):
                continue
            b = buckets[e.timestamp // bucket_seconds * bucket_seconds]
            b[name] += 1
            if name == "approvals":
                b["financed_volume"] += int(e.args["amount"])
    rows = []
    for start in sorted(buckets):
        b = buckets[start]
        row = {"start": start, **{n: int(b.get(n, 0)) for n in (*SERIES_EVENTS, "financed_volume")}}
        row["approval_rate"] = row["approvals"] / row["applications"] if row["applications"] else None
        rows.append(row)
    return {"bucket_seconds": bucket_seconds, "points": rows}
