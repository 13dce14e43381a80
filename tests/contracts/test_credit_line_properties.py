"""Stateful property test of credit lines: random reports (through the real gateway), draws,
repayments, freezes and time, checking after every step that money is conserved (pool + merchants
= all tokens), that nobody owes more principal than was drawn net of repayments, that no line's
principal exceeds its limit when drawn, and that interest never decreases except by repayment."""

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from backend.core.enums import LineStatus
from tests.contracts.conftest import (
    CREDIT_FEED,
    DAY,
    OPERATOR_INDEXES,
    UNIT,
    report_payload,
    run_machine,
    score_word,
    sign_report,
)


@pytest.fixture
def machine(credit_line, gateway, registry, pool, token, bank, merchant, accounts, roles, chain):
    merchants = [merchant, accounts[6]]

    class CreditMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            self.snapshot = chain.snapshot()
            registry.onboard(merchants[1], roles["MERCHANT"], b"\x06" * 32, "second", sender=bank)
            token.mint(merchants[1], 10_000 * UNIT, sender=bank)
            token.approve(credit_line, 2**256 - 1, sender=merchants[1])
            self.wallets = [pool, *merchants]
            self.total = sum(token.balanceOf(w) for w in self.wallets)
            self.sequence = gateway.feeds(CREDIT_FEED).lastSequence
            self.principal = [0, 0]  # drawn − principal repaid, by our own bookkeeping
            self.last_interest = [0, 0]

        def teardown(self):
            chain.restore(self.snapshot)

        @rule(
            who=st.integers(0, 1), limit=st.integers(0, 20_000), score=st.integers(300, 900), rate=st.integers(0, 3_000)
        )
        def report(self, who, limit, score, rate):
            self.sequence += 1
            as_of = chain.pending_timestamp - 5
            payload = report_payload([score_word(merchants[who], limit, score, rate)])
            sigs = sign_report(gateway, CREDIT_FEED, self.sequence, as_of, payload, OPERATOR_INDEXES[:1])
            gateway.submit(CREDIT_FEED, self.sequence, as_of, payload, sigs, sender=bank)

        @rule(who=st.integers(0, 1), part=st.floats(0.05, 1.0))
        def draw(self, who, part):
            line = credit_line.lineOf(merchants[who])
            room = max(0, line.limit - line.drawn)
            fresh = chain.pending_timestamp <= line.scoredAt + 30 * DAY
            if line.status != LineStatus.ACTIVE or room == 0 or not fresh or token.balanceOf(pool) < room:
                return
            amount = max(1, int(room * part))
            credit_line.draw(amount, sender=merchants[who])
            self.principal[who] += amount
            assert credit_line.lineOf(merchants[who]).drawn <= credit_line.lineOf(merchants[who]).limit

        @precondition(lambda self: any(self.principal))
        @rule(who=st.integers(0, 1), part=st.floats(0.05, 0.9))
        def repay(self, who, part):
            line = credit_line.lineOf(merchants[who])
            owed = line.drawn + line.interest
            if owed == 0:
                return
            amount = max(1, int(owed * part))
            tx = credit_line.repay(amount, sender=merchants[who])
            (repaid,) = tx.events.filter(credit_line.Repaid)
            self.principal[who] -= repaid.principalPaid
            self.last_interest[who] = 0

        @rule(days=st.integers(1, 20))
        def advance_time(self, days):
            chain.mine(deltatime=days * DAY)

        @rule(who=st.integers(0, 1))
        def freeze_or_unfreeze(self, who):
            status = credit_line.lineOf(merchants[who]).status
            if status == LineStatus.ACTIVE:
                credit_line.freeze(merchants[who], b"\x00" * 32, sender=bank)
            elif status == LineStatus.FROZEN:
                credit_line.unfreeze(merchants[who], sender=bank)

        @invariant()
        def money_is_conserved(self):
            assert sum(token.balanceOf(w) for w in self.wallets) == self.total

        @invariant()
        def principal_matches_the_books_and_interest_only_grows(self):
            for who, m in enumerate(merchants):
                line = credit_line.lineOf(m)
                assert line.drawn == self.principal[who]
                assert line.interest >= self.last_interest[who]
                self.last_interest[who] = line.interest

    return CreditMachine


def test_credit_line_invariants_hold_over_random_histories(machine):
    run_machine(machine, examples=8, steps=20)
