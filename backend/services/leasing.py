"""Equipment leasing as operations: the one place the CLI, the API, the demo and the tests go through
to offer, accept and pay leases. Every write is signed by the caller's own account."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.core.chain import call_named, events_in, send
from backend.core.enums import LeaseStatus, RiskFlag
from backend.core.manifest import Manifest
from backend.core.money import UNIT


@dataclass(frozen=True)
class LeaseTerms:
    period_seconds: int
    periods: int
    deposit: int  # units
    minimum_rent: int  # units
    tiers: tuple[tuple[int, int], ...]  # (hours up to, units per hour), marginal


@dataclass(frozen=True)
class LeaseView:
    id: int
    lessee: str
    lessor: str
    start: int
    period_seconds: int
    periods: int
    flags: list[str]
    status: str
    billed: int
    settled: int
    deposit: int
    minimum_rent: int
    payment_term: int = 0  # seconds after a period ends before its rent is due (the lease's own settings)
    grace_period: int = 0  # seconds after the due date before unpaid rent makes the lease defaultable
    report_delay: int = 0  # seconds after a period ends before it is billed


@dataclass(frozen=True)
class PeriodView:
    index: int
    usage: int  # hundredths of an hour, as reported
    rent: int  # units; 0 until billed
    paid: int  # units (the whole rent once assigned)
    due_at: int
    receivable_id: int | None  # the receivable it was assigned to


DEMO_TERMS = LeaseTerms(
    period_seconds=86_400,
    periods=30,
    deposit=20_000 * UNIT,
    minimum_rent=200 * UNIT,
    tiers=((8, 150 * UNIT), (16, 120 * UNIT), (24, 100 * UNIT)),  # DCNY per hour, falling with use
)


class LeaseService:
    def __init__(self, w3: Web3, manifest: Manifest) -> None:
        self.w3, self.manifest = w3, manifest
        self.contract = manifest.contract(w3, "EquipmentLease")
        self._decoder = manifest.revert_decoder()

    def offer(self, lessor: LocalAccount, lessee: str, device_id: str, terms: LeaseTerms) -> int:
        call = self.contract.functions.offer(
            lessee,
            device_id,
            (terms.period_seconds, terms.periods, terms.deposit, terms.minimum_rent),
            list(terms.tiers),
        )
        receipt = self._send(lessor, call, f"offering a lease of {device_id}")
        (event,) = events_in(receipt, self.contract, "LeaseOffered")
        return event["args"]["leaseId"]

    def cancel_offer(self, signer: LocalAccount, lease_id: int) -> None:
        """Withdraw an offer not yet accepted (its lessor, or the bank), freeing its device."""
        self._send(signer, self.contract.functions.cancelOffer(lease_id), f"withdrawing the offer of lease {lease_id}")

    def accept(self, lessee: LocalAccount, lease_id: int) -> None:
        """Approve the deposit (if needed) and accept."""
        lease = self.lease(lease_id)
        token = self.manifest.contract(self.w3, "SettlementToken")
        if lease.deposit and token.functions.allowance(lessee.address, self.contract.address).call() < lease.deposit:
            self._send(lessee, token.functions.approve(self.contract.address, lease.deposit), "approving the deposit")
        self._send(lessee, self.contract.functions.accept(lease_id), f"accepting lease {lease_id}")

    def lease(self, lease_id: int) -> LeaseView:
        lease = self.contract.functions.leaseOf(lease_id).call()
        return LeaseView(
            lease_id,
            lease.lessee,
            lease.lessor,
            lease.start,
            lease.periodSeconds,
            lease.periods,
            [flag.name for flag in RiskFlag if lease.flags & flag],
            LeaseStatus(lease.status).label,
            lease.billed,
            lease.settled,
            lease.deposit,
            lease.minimumRent,
            lease.settings.paymentTerm,
            lease.settings.gracePeriod,
            lease.settings.reportDelay,
        )

    def exists(self, lease_id: int) -> bool:
        return self.lease(lease_id).status != LeaseStatus.NONE.label

    def tiers(self, lease_id: int) -> list[tuple[int | None, int]]:
        """The rent schedule: (hours up to, units per hour), the last tier's hours None (no bound)."""
        tiers = self.contract.functions.tiersOf(lease_id).call()
        return [(None if i == len(tiers) - 1 else t.upToHours, t.pricePerHour) for i, t in enumerate(tiers)]

    def period(self, lease_id: int, index: int) -> PeriodView:
        p = call_named(self.contract.functions.periodOf(lease_id, index))
        return PeriodView(index, p.p.usage, p.p.rent, p.p.paid, p.dueAt, p.receivableId if p.assigned else None)

    def outstanding(self, lease_id: int) -> int:
        """Billed rent not yet paid."""
        return self.contract.functions.outstanding(lease_id).call()

    def bill(self, signer: LocalAccount, lease_id: int) -> list[int]:
        """Bill every period whose report window has closed (anyone may); the periods billed."""
        receipt = self._send(signer, self.contract.functions.bill(lease_id), f"billing lease {lease_id}")
        return [e["args"]["period"] for e in events_in(receipt, self.contract, "RentBilled")]

    def pay(self, payer: LocalAccount, lease_id: int, amount: int) -> None:
        """Pay `amount` of the billed rent, oldest period first (approving exactly what is missing)."""
        token = self.manifest.contract(self.w3, "SettlementToken")
        if token.functions.allowance(payer.address, self.contract.address).call() < amount:
            self._send(payer, token.functions.approve(self.contract.address, amount), "approving the rent")
        self._send(payer, self.contract.functions.payRent(lease_id, amount), f"paying rent on lease {lease_id}")

    def assign(self, lessor: LocalAccount, lease_id: int, period: int) -> int:
        """Turn a billed, unpaid period into a receivable on the lessee held by the lessor; its id."""
        call = self.contract.functions.assignPeriod(lease_id, period)
        receipt = self._send(lessor, call, f"assigning period {period} of lease {lease_id}")
        (event,) = events_in(receipt, self.contract, "PeriodAssigned")
        return event["args"]["receivableId"]

    def close(self, signer: LocalAccount, lease_id: int) -> None:
        """Close at term end (the lessee or the lessor): the deposit goes back to the lessee."""
        self._send(signer, self.contract.functions.close(lease_id), f"closing lease {lease_id}")

    def due_for_billing(self) -> list[int]:
        """Leases with periods to bill now (the contract's rule: ended, report window closed, not billed),
        as of the chain's latest block."""
        fn = self.contract.functions
        return [i for i in range(fn.leaseCount().call()) if fn.unbilledPeriods(i).call()]

    def lease_ids_of(self, party: str) -> list[int]:
        """Every lease `party` offered or was offered, oldest first (from the chain's LeaseOffered events)."""
        start = self.manifest.record("EquipmentLease").block
        offered = self.contract.events.LeaseOffered()
        ids = set()
        for role in ("lessor", "lessee"):
            for log in offered.get_logs(from_block=start, argument_filters={role: party}):
                ids.add(log["args"]["leaseId"])
        return sorted(ids)

    def open_lease(self, device_id: str) -> int | None:
        found = call_named(self.contract.functions.openLeaseOf(device_id))
        return found.leaseId if found.found else None

    def _send(self, account: LocalAccount, call, what: str):
        return send(self.w3, account, call, decoder=self._decoder, what=what)

    def lease_fleet(
        self, lessor: LocalAccount, lessee: LocalAccount, device_ids, terms: LeaseTerms = DEMO_TERMS
    ) -> dict[str, int]:
        """Offer and accept a lease for every device not yet under one; device id → lease id."""
        leases = {}
        for device_id in device_ids:
            lease_id = self.open_lease(device_id)
            if lease_id is None or self.lapsed(self.lease(lease_id)):  # a new offer ends a lapsed one
                lease_id = self.offer(lessor, lessee.address, device_id, terms)
            if self.lease(lease_id).status == LeaseStatus.OFFERED.label:
                self.accept(lessee, lease_id)
            leases[device_id] = lease_id
        return leases

    @cached_property
    def offer_lifetime(self) -> int:
        """Seconds an offer stands unaccepted (the contract's constant)."""
        return self.contract.functions.OFFER_LIFETIME().call()

    def lapses_at(self, lease: LeaseView) -> int | None:
        """When an offer lapses unaccepted (the chain then refuses its acceptance); None if not an offer."""
        if lease.status != LeaseStatus.OFFERED.label:
            return None
        return lease.start + self.offer_lifetime

    def lapsed(self, lease: LeaseView, now: int | None = None) -> bool:
        """Whether `lease` is an offer nobody accepted in time (as of `now`, the chain's time by default)."""
        lapses_at = self.lapses_at(lease)
        if lapses_at is None:
            return False
        return (self.w3.eth.get_block("latest")["timestamp"] if now is None else now) > lapses_at
