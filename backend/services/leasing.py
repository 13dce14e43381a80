"""Equipment leasing as operations: the one place the CLI, the API, the demo and the tests go through
to offer, accept and pay leases. Every write is signed by the caller's own account."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.core.chain import send
from backend.core.manifest import Manifest

# Names of IEquipmentLease.LeaseStatus, in declaration order.
LEASE_STATUSES = ("None", "Offered", "Active", "Frozen", "Defaulted", "Recalled", "Closed")
FLAG_NAMES = {1: "IDLE", 2: "GEOFENCE", 4: "FUEL", 8: "TAMPER"}  # oracles.iot.rules.Flag's bits


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


DEMO_TERMS = LeaseTerms(
    period_seconds=86_400,
    periods=30,
    deposit=20_000 * 10**6,
    minimum_rent=200 * 10**6,
    tiers=((8, 150 * 10**6), (16, 120 * 10**6), (24, 100 * 10**6)),  # DCNY per hour, falling with use
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
        (event,) = self.contract.events.LeaseOffered().process_receipt(receipt)
        return event["args"]["leaseId"]

    def accept(self, lessee: LocalAccount, lease_id: int) -> None:
        """Approve the deposit (if needed) and accept."""
        lease = self.lease(lease_id)
        token = self.manifest.contract(self.w3, "SettlementToken")
        if lease.deposit and token.functions.allowance(lessee.address, self.contract.address).call() < lease.deposit:
            self._send(lessee, token.functions.approve(self.contract.address, lease.deposit), "approving the deposit")
        self._send(lessee, self.contract.functions.accept(lease_id), f"accepting lease {lease_id}")

    def lease(self, lease_id: int) -> LeaseView:
        (
            lessee,
            start,
            period_seconds,
            periods,
            flags,
            lessor,
            status,
            billed,
            settled,
            deposit,
            minimum_rent,
            _device,
        ) = self.contract.functions.leaseOf(lease_id).call()
        return LeaseView(
            lease_id,
            lessee,
            lessor,
            start,
            period_seconds,
            periods,
            [name for bit, name in FLAG_NAMES.items() if flags & bit],
            LEASE_STATUSES[status],
            billed,
            settled,
            deposit,
            minimum_rent,
        )

    def open_lease(self, device_id: str) -> int | None:
        found, lease_id = self.contract.functions.openLeaseOf(device_id).call()
        return lease_id if found else None

    def _send(self, account: LocalAccount, call, what: str):
        return send(self.w3, account, call, decoder=self._decoder, what=what)

    def lease_fleet(
        self, lessor: LocalAccount, lessee: LocalAccount, device_ids, terms: LeaseTerms = DEMO_TERMS
    ) -> dict[str, int]:
        """Offer and accept a lease for every device not yet under one; device id → lease id."""
        leases = {}
        for device_id in device_ids:
            lease_id = self.open_lease(device_id)
            if lease_id is None:
                lease_id = self.offer(lessor, lessee.address, device_id, terms)
            if self.lease(lease_id).status == "Offered":
                self.accept(lessee, lease_id)
            leases[device_id] = lease_id
        return leases
