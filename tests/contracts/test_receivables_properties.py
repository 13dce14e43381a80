"""Stateful property test: random sequences of issue / split / transfer / finance / repay / advance
time / mark default against the real contracts, checking after every step that

- money is conserved (pool + every wallet = all tokens ever minted),
- no receivable is financed twice,
- each debtor's exposure equals its financed outstanding and stays within its limit,
- the parts of every split sum exactly to their parent,
- status only moves forward, and the chain agrees with a plain Python model of the rules.
"""

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from backend.core.enums import ReceivableStatus
from tests.contracts.conftest import DAY, GRACE, run_machine

ACTIVE, SPLIT, FINANCED = ReceivableStatus.ACTIVE, ReceivableStatus.SPLIT, ReceivableStatus.FINANCED
SETTLED, DEFAULTED = ReceivableStatus.SETTLED, ReceivableStatus.DEFAULTED
LIMIT = 600
POOL_CASH = 1_000


@pytest.fixture
def machine(receivables, registry, pool, token, bank, debtor, supplier, supplier2, supplier3, chain):
    """Runs the state machine against the session's contracts, restoring the chain after each example."""
    suppliers = [supplier, supplier2, supplier3]

    class ReceivablesMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            self.snapshot = chain.snapshot()
            receivables.setDebtorTerms(debtor, LIMIT, 1_200, 10_000, 0, sender=bank)
            pool.withdraw(bank, pool.available() - POOL_CASH, sender=bank)  # a small pool: refusals happen
            self.wallets = [pool, bank, debtor, *suppliers]
            self.total = sum(token.balanceOf(w) for w in self.wallets)
            self.first_id = receivables.nextId()
            self.model = {}  # id -> dict(amount, repaid, status, holder, financed, due, parts)
            self.financings = {}  # id -> number of FinancingApplied events
            self.seen = {}  # id -> the status last read from the chain
            self.ref = 0

        def teardown(self):
            chain.restore(self.snapshot)

        # ---- helpers ----
        def ids(self, *statuses):
            return sorted(i for i, r in self.model.items() if r["status"] in statuses)

        def now(self):
            return chain.pending_timestamp

        # ---- rules ----
        @rule(amount=st.integers(1, 400), days=st.integers(1, 60), to=st.integers(0, 2))
        def issue(self, amount, days, to):
            self.ref += 1
            due = self.now() + days * DAY
            tx = receivables.issue(
                suppliers[to], amount, due, b"\x01" * 32, self.ref.to_bytes(32, "big"), sender=debtor
            )
            rid = tx.events.filter(receivables.ReceivableIssued)[0].id
            self.model[rid] = {
                "amount": amount,
                "repaid": 0,
                "status": ACTIVE,
                "holder": to,
                "financed": False,
                "due": due,
                "parts": [],
            }

        @precondition(lambda self: self.ids(ACTIVE))
        @rule(data=st.data())
        def split(self, data):
            candidates = [
                i
                for i in self.ids(ACTIVE)
                if self.model[i]["repaid"] == 0 and self.model[i]["amount"] >= 2 and self.now() < self.model[i]["due"]
            ]
            if not candidates:
                return
            rid = data.draw(st.sampled_from(candidates))
            r = self.model[rid]
            n = data.draw(st.integers(2, min(4, r["amount"])))
            cuts = sorted(
                data.draw(st.lists(st.integers(1, r["amount"] - 1), min_size=n - 1, max_size=n - 1, unique=True))
            )
            amounts = [b - a for a, b in zip([0, *cuts], [*cuts, r["amount"]], strict=False)]
            holders = [data.draw(st.integers(0, 2)) for _ in amounts]
            receivables.split(rid, amounts, [suppliers[h] for h in holders], sender=suppliers[r["holder"]])
            r["status"] = SPLIT
            first = max(self.model) + 1
            for k, (amount, holder) in enumerate(zip(amounts, holders, strict=False)):
                self.model[first + k] = {
                    "amount": amount,
                    "repaid": 0,
                    "status": ACTIVE,
                    "holder": holder,
                    "financed": False,
                    "due": r["due"],
                    "parts": [],
                }
                r["parts"].append(first + k)

        @precondition(lambda self: self.ids(ACTIVE))
        @rule(data=st.data(), to=st.integers(0, 2))
        def transfer(self, data, to):
            rid = data.draw(st.sampled_from(self.ids(ACTIVE)))
            r = self.model[rid]
            receivables.transferFrom(suppliers[r["holder"]], suppliers[to], rid, sender=suppliers[r["holder"]])
            r["holder"] = to

        @precondition(lambda self: self.ids(ACTIVE))
        @rule(data=st.data())
        def finance(self, data):
            rid = data.draw(st.sampled_from(self.ids(ACTIVE)))
            r = self.model[rid]
            tx = receivables.applyForFinancing(rid, sender=suppliers[r["holder"]])
            if tx.events.filter(receivables.FinancingApplied):
                self.financings[rid] = self.financings.get(rid, 0) + 1
                r.update(status=FINANCED, financed=True, holder="pool")
            else:
                (refusal,) = tx.events.filter(receivables.FinancingRefused)
                # matured, over the limit, pool short, advance zero; in default once one has defaulted
                allowed = {1, 5, 6, 8} | ({4} if self.ids(DEFAULTED) else set())
                assert refusal.reason in allowed

        @precondition(lambda self: self.ids(ACTIVE, FINANCED))
        @rule(data=st.data(), part=st.floats(0.1, 1.0))
        def repay(self, data, part):
            rid = data.draw(st.sampled_from(self.ids(ACTIVE, FINANCED)))
            r = self.model[rid]
            if self.now() > r["due"] + GRACE:
                return
            amount = max(1, int((r["amount"] - r["repaid"]) * part))
            receivables.repay(rid, amount, sender=debtor)
            r["repaid"] += amount
            if r["repaid"] == r["amount"]:
                r["status"] = SETTLED

        @rule(days=st.integers(1, 40))
        def advance_time(self, days):
            chain.mine(deltatime=days * DAY)

        @precondition(lambda self: self.ids(ACTIVE, FINANCED))
        @rule(data=st.data())
        def mark_default(self, data):
            overdue = [i for i in self.ids(ACTIVE, FINANCED) if self.now() > self.model[i]["due"] + GRACE]
            if overdue:
                rid = data.draw(st.sampled_from(overdue))
                receivables.markDefaulted(rid, sender=bank)
                self.model[rid]["status"] = DEFAULTED

        # ---- invariants ----
        @invariant()
        def money_is_conserved(self):
            assert sum(token.balanceOf(w) for w in self.wallets) == self.total

        @invariant()
        def nothing_financed_twice(self):
            assert all(n == 1 for n in self.financings.values())

        @invariant()
        def exposure_is_financed_outstanding_within_limit(self):
            financed = sum(
                r["amount"] - r["repaid"]
                for r in self.model.values()
                if r["financed"] and r["status"] in (FINANCED, DEFAULTED)
            )
            terms = receivables.debtorTerms(debtor)
            assert terms.exposure == financed <= LIMIT
            assert terms.openDefaults == len(self.ids(DEFAULTED))

        @invariant()
        def parts_sum_to_parents(self):
            for r in self.model.values():
                if r["parts"]:
                    assert sum(self.model[p]["amount"] for p in r["parts"]) == r["amount"]

        @invariant()
        def chain_agrees_and_status_only_moves_forward(self):
            for rid, r in self.model.items():
                on_chain = receivables.receivable(rid)
                assert on_chain.status >= self.seen.get(rid, ACTIVE)
                self.seen[rid] = on_chain.status
                assert on_chain.status == r["status"]
                assert on_chain.repaid == r["repaid"]
                if r["status"] in (ACTIVE, FINANCED, SETTLED, DEFAULTED):
                    holder = pool.address if r["holder"] == "pool" else suppliers[r["holder"]].address
                    assert receivables.ownerOf(rid) == holder

    return ReceivablesMachine


def test_receivables_invariants_hold_over_random_histories(machine):
    run_machine(machine, examples=12, steps=20)
