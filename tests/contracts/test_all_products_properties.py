"""Stateful fuzzing of the money invariants across the three products together: receivables, credit
lines and equipment leases on one pool and one token, fed through the real gateway. After every step:
no token is created or lost; the lease contract holds exactly the deposits of its running leases; a
debtor's exposure is its financed outstanding and stays within its limit; a merchant's principal is
what it drew net of principal repaid. The default run is short; the slow one takes 768 steps in
examples of 64 (its invariants read every receivable after each step, so its cost grows with the
square of an example's length)."""

from types import SimpleNamespace

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from backend.core.codec import lease_payload, pack_lease_word
from backend.core.enums import LeaseStatus, LineStatus, ReceivableStatus
from tests.contracts.conftest import (
    CREDIT_FEED,
    DAY,
    IOT_FEED,
    IOT_OPERATOR_INDEXES,
    OPERATOR_INDEXES,
    UNIT,
    Reads,
    report_payload,
    run_machine,
    score_word,
    sign_report,
)

SIGNERS = {CREDIT_FEED: OPERATOR_INDEXES[:1], IOT_FEED: IOT_OPERATOR_INDEXES}  # each feed's own operator
HOLDING = (2, 3, 4)  # lease statuses whose deposit the contract holds: Active, Frozen, Defaulted


@pytest.fixture
def machine(
    receivables, credit_line, lease, gateway, pool, token, bank, debtor, supplier, supplier2, supplier3, merchant, chain
):
    reads = SimpleNamespace(
        receivables=Reads(receivables), lease=Reads(lease), token=Reads(token), credit_line=Reads(credit_line)
    )

    class ThreeProducts(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            self.snapshot = chain.snapshot()
            self.wallets = [pool, lease, bank, debtor, supplier, supplier2, supplier3, merchant]
            self.total = sum(reads.token.balanceOf(w) for w in self.wallets)
            self.refs = 0
            self.devices = 0
            self.principal = 0
            self.rids: list[int] = []
            self.leases: list[int] = []

        def teardown(self):
            chain.restore(self.snapshot)

        def _submit(self, feed, payload):
            sequence = gateway.feeds(feed).lastSequence + 1
            as_of = chain.pending_timestamp
            sigs = sign_report(gateway, feed, sequence, as_of, payload, SIGNERS[feed])
            return gateway.submit(feed, sequence, as_of, payload, sigs, sender=bank)

        # -- receivables ---------------------------------------------------------------------

        @rule(amount=st.integers(1, 200_000), days=st.integers(5, 120))
        def issue(self, amount, days):
            self.refs += 1
            ref = f"P-{self.refs}".encode().ljust(32, b"\x00")
            tx = receivables.issue(
                supplier, amount * UNIT, chain.pending_timestamp + days * DAY, b"\x00" * 32, ref, sender=debtor
            )
            self.rids.append(tx.events.filter(receivables.ReceivableIssued)[0].id)

        def _open_receivables(self):
            """(id, record) of every receivable still active or financed, each read once."""
            rows = ((rid, reads.receivables.receivable(rid)) for rid in self.rids)
            return [(rid, r) for rid, r in rows if r.status in (ReceivableStatus.ACTIVE, ReceivableStatus.FINANCED)]

        @rule(pick=st.integers(0, 10**6))
        def finance(self, pick):
            now = chain.pending_timestamp
            active = [
                rid
                for rid, r in self._open_receivables()
                if r.status == ReceivableStatus.ACTIVE
                and r.dueDate > now
                and reads.receivables.ownerOf(rid) == supplier.address
            ]
            if active:
                receivables.applyForFinancing(active[pick % len(active)], sender=supplier)  # approved or refused

        @rule(pick=st.integers(0, 10**6), part=st.floats(0.1, 1.0))
        def repay_receivable(self, pick, part):
            last_day = chain.pending_timestamp - reads.receivables.gracePeriod()
            open_ = [(rid, r) for rid, r in self._open_receivables() if last_day <= r.dueDate]
            if open_:
                rid, r = open_[pick % len(open_)]
                receivables.repay(rid, max(1, int((r.amount - r.repaid) * part)), sender=debtor)

        @rule(pick=st.integers(0, 10**6))
        def default_receivable(self, pick):
            last_day = chain.pending_timestamp - reads.receivables.gracePeriod()
            overdue = [rid for rid, r in self._open_receivables() if r.dueDate < last_day]
            if overdue:
                receivables.markDefaulted(overdue[pick % len(overdue)], sender=bank)

        # -- credit lines ------------------------------------------------------------------------

        @rule(limit=st.integers(0, 50_000), score=st.integers(300, 900), rate=st.integers(0, 3_000))
        def score(self, limit, score, rate):
            self._submit(CREDIT_FEED, report_payload([score_word(merchant, limit, score, rate)]))

        @rule(part=st.floats(0.05, 1.0))
        def draw(self, part):
            line = reads.credit_line.lineOf(merchant)
            room = max(0, line.limit - line.drawn)
            if (
                line.status != LineStatus.ACTIVE
                or room == 0
                or chain.pending_timestamp > line.scoredAt + 30 * DAY
                or reads.token.balanceOf(pool) < room
            ):
                return
            amount = max(1, int(room * part))
            credit_line.draw(amount, sender=merchant)
            self.principal += amount

        @rule(part=st.floats(0.05, 1.0))
        def repay_credit(self, part):
            line = reads.credit_line.lineOf(merchant)
            owed = line.drawn + line.interest
            amount = min(int(owed * part) + 1, owed, reads.token.balanceOf(merchant))
            if amount > 0:
                tx = credit_line.repay(amount, sender=merchant)
                self.principal -= tx.events.filter(credit_line.Repaid)[0].principalPaid

        # -- leases ---------------------------------------------------------------------------------

        @rule(periods=st.integers(1, 4), deposit=st.integers(0, 5_000), minimum=st.integers(0, 500))
        def lease_out(self, periods, deposit, minimum):
            self.devices += 1
            tx = lease.offer(
                debtor,
                f"D-{self.devices}",
                (7 * DAY, periods, deposit * UNIT, minimum * UNIT),
                [(20, 30 * UNIT), (100, 20 * UNIT)],
                sender=supplier,
            )
            lease_id = tx.events.filter(lease.LeaseOffered)[0].leaseId
            lease.accept(lease_id, sender=debtor)
            self.leases.append(lease_id)

        @rule(pick=st.integers(0, 10**6), hours=st.integers(0, 150), flags=st.integers(0, 15))
        def report_usage(self, pick, hours, flags):
            if self.leases:
                lease_id = self.leases[pick % len(self.leases)]
                row = reads.lease.leaseOf(lease_id)
                period = max(0, (chain.pending_timestamp - row.start) // row.periodSeconds)
                self._submit(IOT_FEED, lease_payload([pack_lease_word(lease_id, period, hours * 100, flags)]))

        @rule(pick=st.integers(0, 10**6), part=st.floats(0.1, 1.0))
        def pay_rent(self, pick, part):
            if self.leases:
                lease_id = self.leases[pick % len(self.leases)]
                lease.bill(lease_id, sender=bank)
                owed = lease.outstanding(lease_id)
                if owed:
                    lease.payRent(lease_id, max(1, int(owed * part)), sender=debtor)

        @rule(pick=st.integers(0, 10**6))
        def assign_and_finance(self, pick):
            for lease_id in self.leases[pick % max(1, len(self.leases)) :]:
                row = reads.lease.leaseOf(lease_id)
                if row.status != LeaseStatus.ACTIVE:
                    continue
                lease.bill(lease_id, sender=bank)
                for k in range(reads.lease.leaseOf(lease_id).billed):
                    (_, rent, paid), due_at, assigned, _ = lease.periodOf(lease_id, k)
                    if not assigned and paid == 0 and rent > 0 and chain.pending_timestamp < due_at:
                        tx = lease.assignPeriod(lease_id, k, sender=supplier)
                        rid = tx.events.filter(lease.PeriodAssigned)[0].receivableId
                        self.rids.append(rid)
                        receivables.applyForFinancing(rid, sender=supplier)
                        return

        @rule(pick=st.integers(0, 10**6))
        def settle_lease(self, pick):
            """Whatever ending is open: default when overdue, recall a defaulted or frozen one, close a
            finished one, or freeze an active one."""
            if not self.leases:
                return
            lease_id = self.leases[pick % len(self.leases)]
            lease.bill(lease_id, sender=bank)
            row = reads.lease.leaseOf(lease_id)
            if row.status in (LeaseStatus.FROZEN, LeaseStatus.DEFAULTED):
                lease.recall(lease_id, sender=bank)
            elif row.status == LeaseStatus.ACTIVE and row.settled == row.periods:
                lease.close(lease_id, sender=debtor)
            elif row.status == LeaseStatus.ACTIVE:
                overdue = (
                    row.settled < row.billed
                    and chain.pending_timestamp > lease.periodOf(lease_id, row.settled)[1] + row.settings.gracePeriod
                )
                if overdue:
                    lease.markDefaulted(lease_id, sender=bank)
                else:
                    lease.freeze(lease_id, b"\x00" * 32, sender=bank)

        @rule(days=st.integers(1, 25))
        def advance_time(self, days):
            chain.mine(deltatime=days * DAY)

        # -- invariants -------------------------------------------------------------------------

        @invariant()
        def no_token_is_created_or_lost(self):
            assert sum(reads.token.balanceOf(w) for w in self.wallets) == self.total

        @invariant()
        def the_lease_contract_holds_exactly_the_running_deposits(self):
            rows = [reads.lease.leaseOf(i) for i in self.leases]
            held = sum(row.deposit for row in rows if row.status in HOLDING)
            assert reads.token.balanceOf(lease) == held

        @invariant()
        def exposure_is_the_financed_outstanding_within_the_limit(self):
            terms = reads.receivables.debtorTerms(debtor)
            financed = 0
            for rid in self.rids:
                r = reads.receivables.receivable(rid)
                if r.status in (ReceivableStatus.FINANCED, ReceivableStatus.DEFAULTED) and r.financed:
                    financed += r.amount - r.repaid
            assert terms.exposure == financed <= terms.limit

        @invariant()
        def principal_is_drawn_net_of_principal_repaid(self):
            assert reads.credit_line.lineOf(merchant).drawn == self.principal

    return ThreeProducts


def test_money_invariants_across_the_three_products(machine):
    run_machine(machine, examples=10, steps=40)


@pytest.mark.slow
def test_money_invariants_across_the_three_products_over_long_histories(machine):
    run_machine(machine, examples=12, steps=64)  # 768 steps
