from fractions import Fraction

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.enums import ReceivableStatus, Refusal
from tests.contracts.conftest import DAY, GRACE, UNIT, permit_signature

ZERO = "0x0000000000000000000000000000000000000000"
INVOICE = b"\xaa" * 32
ACTIVE, SPLIT, FINANCED = ReceivableStatus.ACTIVE, ReceivableStatus.SPLIT, ReceivableStatus.FINANCED
SETTLED, DEFAULTED, CURED = ReceivableStatus.SETTLED, ReceivableStatus.DEFAULTED, ReceivableStatus.CURED
MATURED, DEBTOR_NOT_AUTHORIZED, NO_FACILITY = Refusal.MATURED, Refusal.DEBTOR_NOT_AUTHORIZED, Refusal.NO_FACILITY
DEBTOR_IN_DEFAULT, EXPOSURE_LIMIT = Refusal.DEBTOR_IN_DEFAULT, Refusal.EXPOSURE_LIMIT_EXCEEDED
NO_LIQUIDITY, POOL_PAUSED, ADVANCE_TOO_SMALL = (
    Refusal.INSUFFICIENT_LIQUIDITY,
    Refusal.POOL_PAUSED,
    Refusal.ADVANCE_TOO_SMALL,
)
RATE = 600
YEAR = 365 * DAY


def ref(n) -> bytes:
    return f"PO-{n}".encode().ljust(32, b"\x00")


@pytest.fixture
def issue(receivables, debtor, supplier, chain):
    """Issue a receivable of `amount` due in `days`; returns its id."""
    counter = iter(range(10**6))

    def _issue(amount=100_000 * UNIT, days=90, to=None, sender=None):
        due = chain.pending_timestamp + days * DAY
        tx = receivables.issue(to or supplier, amount, due, INVOICE, ref(next(counter)), sender=sender or debtor)
        return tx.events.filter(receivables.ReceivableIssued)[0].id

    return _issue


def due_of(receivables, rid):
    return receivables.receivable(rid).dueDate


def expected_price(outstanding, seconds, rate_bps=RATE, advance_rate_bps=10_000, fee_bps=0):
    """(advance, discount, fee) as the contract's description prices them."""
    base = outstanding * advance_rate_bps // 10_000
    exact = Fraction(base * rate_bps * seconds, 10_000 * YEAR)
    discount = -(-exact.numerator // exact.denominator)  # ceil
    fee = -(-outstanding * fee_bps // 10_000)
    return max(base - discount - fee, 0), discount, fee


def expected_advance(outstanding, seconds, rate_bps=RATE):
    return expected_price(outstanding, seconds, rate_bps)[0]


# --- issue ------------------------------------------------------------------------------------


def test_issue_mints_to_supplier_and_emits(receivables, debtor, supplier, chain):
    due = chain.pending_timestamp + 90 * DAY
    tx = receivables.issue(supplier, 100 * UNIT, due, INVOICE, ref(1), sender=debtor)
    assert tx.events == [
        receivables.Transfer(ZERO, supplier, 0),
        receivables.ReceivableIssued(0, debtor, supplier, 100 * UNIT, due, INVOICE, ref(1)),
    ]
    r = receivables.receivable(0)
    assert (r.debtor, r.dueDate, r.status, r.financed) == (debtor.address, due, ACTIVE, False)
    assert (r.amount, r.repaid, r.parentPlusOne, r.invoiceHash) == (100 * UNIT, 0, 0, INVOICE)
    assert receivables.ownerOf(0) == supplier.address
    assert receivables.nextId() == 1
    assert receivables.referenceUsed(debtor, ref(1))
    assert receivables.receivables(0) == (debtor.address, supplier.address, 100 * UNIT, due, False)


def test_issue_by_non_core_enterprise_reverts(receivables, supplier, supplier2, chain, roles):
    due = chain.pending_timestamp + DAY
    with ape.reverts(
        receivables.ReceivableParticipantNotAuthorized, account=supplier.address, requiredRoles=roles["CORE_ENTERPRISE"]
    ):
        receivables.issue(supplier2, 1, due, INVOICE, ref(1), sender=supplier)


def test_issue_to_unregistered_or_suspended_supplier_reverts(
    receivables, registry, bank, debtor, supplier, stranger, chain, roles
):
    due = chain.pending_timestamp + DAY
    with ape.reverts(
        receivables.ReceivableParticipantNotAuthorized, account=stranger.address, requiredRoles=roles["SUPPLIER"]
    ):
        receivables.issue(stranger, 1, due, INVOICE, ref(1), sender=debtor)
    registry.suspend(supplier, b"\x00" * 32, sender=bank)
    with ape.reverts(
        receivables.ReceivableParticipantNotAuthorized, account=supplier.address, requiredRoles=roles["SUPPLIER"]
    ):
        receivables.issue(supplier, 1, due, INVOICE, ref(1), sender=debtor)


@pytest.mark.parametrize(("amount", "error"), [(0, "ReceivableZeroAmount"), (2**96, "ReceivableAmountTooLarge")])
def test_issue_bad_amount_reverts(receivables, debtor, supplier, chain, amount, error):
    with ape.reverts(getattr(receivables, error)):
        receivables.issue(supplier, amount, chain.pending_timestamp + DAY, INVOICE, ref(1), sender=debtor)


@pytest.mark.parametrize("offset", [0, -DAY, 731 * DAY])
def test_issue_due_date_out_of_range_reverts(receivables, debtor, supplier, chain, offset):
    due = chain.pending_timestamp + offset
    with ape.reverts(receivables.ReceivableDueDateOutOfRange, dueDate=due):
        receivables.issue(supplier, 1, due, INVOICE, ref(1), sender=debtor)


def test_issue_needs_a_reference_unique_per_debtor(
    receivables, registry, bank, debtor, merchant, supplier, chain, roles
):
    due = chain.pending_timestamp + DAY
    with ape.reverts(receivables.ReceivableMissingReference):
        receivables.issue(supplier, 1, due, INVOICE, b"\x00" * 32, sender=debtor)
    receivables.issue(supplier, 1, due, INVOICE, ref(7), sender=debtor)
    with ape.reverts(receivables.ReceivableDuplicateReference, debtor=debtor.address, ref=ref(7)):
        receivables.issue(supplier, 2, due, INVOICE, ref(7), sender=debtor)
    registry.onboard(merchant, roles["CORE_ENTERPRISE"], b"\x09" * 32, "another core", sender=bank)
    receivables.issue(supplier, 1, due, INVOICE, ref(7), sender=merchant)  # another debtor's reference space


def test_issue_refused_while_paused(receivables, bank, debtor, supplier, chain):
    receivables.pause(sender=bank)
    with ape.reverts(receivables.EnforcedPause):
        receivables.issue(supplier, 1, chain.pending_timestamp + DAY, INVOICE, ref(1), sender=debtor)
    with ape.reverts(receivables.EnforcedPause):
        receivables.createReceivable(supplier, 1, chain.pending_timestamp + DAY, sender=debtor)


# --- split and transfer -----------------------------------------------------------------------


def test_split_replaces_parent_by_parts_for_each_holder(receivables, issue, supplier, supplier2, supplier3):
    parent = issue(amount=300 * UNIT)
    due = due_of(receivables, parent)
    tx = receivables.split(
        parent, [100 * UNIT, 150 * UNIT, 50 * UNIT], [supplier, supplier2, supplier3], sender=supplier
    )
    assert tx.events.filter(receivables.ReceivableSplit) == [receivables.ReceivableSplit(parent, 1, 3)]
    assert tx.events.filter(receivables.ReceivablePartCreated) == [
        receivables.ReceivablePartCreated(1, parent, supplier, 100 * UNIT),
        receivables.ReceivablePartCreated(2, parent, supplier2, 150 * UNIT),
        receivables.ReceivablePartCreated(3, parent, supplier3, 50 * UNIT),
    ]
    assert tx.events.filter(receivables.Transfer) == [
        receivables.Transfer(supplier, ZERO, parent),
        receivables.Transfer(ZERO, supplier, 1),
        receivables.Transfer(ZERO, supplier2, 2),
        receivables.Transfer(ZERO, supplier3, 3),
    ]
    assert receivables.receivable(parent).status == SPLIT
    assert receivables.lineage(parent) == (False, 0, 1, 3)
    assert receivables.receivables(parent)[1] == ZERO  # the parent token is burned
    with ape.reverts(receivables.ERC721NonexistentToken, tokenId=parent):
        receivables.ownerOf(parent)
    for part, holder in ((1, supplier), (2, supplier2), (3, supplier3)):
        r = receivables.receivable(part)
        assert (r.debtor, r.dueDate, r.status, r.invoiceHash) == (
            receivables.receivable(parent).debtor,
            due,
            ACTIVE,
            INVOICE,
        )
        assert receivables.lineage(part) == (True, parent, 0, 0)
        assert receivables.ownerOf(part) == holder.address


def test_parts_can_be_split_again_down_the_chain(receivables, issue, supplier, supplier2, supplier3):
    parent = issue(amount=300 * UNIT)
    receivables.split(parent, [200 * UNIT, 100 * UNIT], [supplier, supplier2], sender=supplier)
    receivables.split(2, [60 * UNIT, 40 * UNIT], [supplier2, supplier3], sender=supplier2)
    assert receivables.lineage(4) == (True, 2, 0, 0)
    assert receivables.lineage(2) == (True, parent, 3, 2)
    assert receivables.ownerOf(4) == supplier3.address


def test_split_by_non_holder_reverts(receivables, issue, supplier, supplier2):
    rid = issue()
    with ape.reverts(receivables.ReceivableNotHolder, id=rid, caller=supplier2.address):
        receivables.split(rid, [1, 100_000 * UNIT - 1], [supplier2, supplier2], sender=supplier2)


def test_split_unknown_id_reverts(receivables, supplier):
    with ape.reverts(receivables.ReceivableUnknown, id=42):
        receivables.split(42, [1, 1], [supplier, supplier], sender=supplier)


@pytest.mark.parametrize(
    ("amounts", "holders", "error", "args"),
    [
        ([300], 1, "ReceivableSplitPartCount", {"parts": 1, "holders": 1}),
        ([100, 200], 1, "ReceivableSplitPartCount", {"parts": 2, "holders": 1}),
        ([1] * 299 + [1], 33, "ReceivableSplitPartCount", None),
        ([100, 100], 2, "ReceivableSplitSumMismatch", {"amount": 300, "sum": 200}),
        ([300, 0], 2, "ReceivableZeroAmount", None),
    ],
)
def test_split_bad_parts_revert(receivables, issue, supplier, amounts, holders, error, args):
    rid = issue(amount=300)
    if holders == 33:
        amounts = [10] * 29 + [1] * 4  # 33 parts summing to 294 — count is checked first
    with ape.reverts(getattr(receivables, error), **(args or {})):
        receivables.split(rid, amounts, [supplier] * (holders if holders != 33 else 33), sender=supplier)


def test_split_to_non_supplier_reverts(receivables, issue, supplier, stranger, roles):
    rid = issue(amount=300)
    with ape.reverts(
        receivables.ReceivableParticipantNotAuthorized, account=stranger.address, requiredRoles=roles["SUPPLIER"]
    ):
        receivables.split(rid, [100, 200], [supplier, stranger], sender=supplier)


def test_split_of_expired_receivable_reverts(receivables, issue, supplier, chain):
    rid = issue(amount=300, days=10)
    chain.mine(timestamp=due_of(receivables, rid))
    with ape.reverts(receivables.ReceivableExpired, id=rid):
        receivables.split(rid, [100, 200], [supplier, supplier], sender=supplier)


def test_split_of_settled_or_defaulted_receivable_reverts(receivables, issue, debtor, supplier, chain):
    settled = issue(amount=300)
    receivables.repay(settled, 300, sender=debtor)
    with ape.reverts(receivables.ReceivableNotActive, id=settled, status=SETTLED):
        receivables.split(settled, [100, 200], [supplier, supplier], sender=supplier)
    defaulted = issue(amount=300, days=10)
    chain.mine(timestamp=due_of(receivables, defaulted) + GRACE + 1)
    receivables.markDefaulted(defaulted, sender=supplier)
    with ape.reverts(receivables.ReceivableNotActive, id=defaulted, status=DEFAULTED):
        receivables.split(defaulted, [100, 200], [supplier, supplier], sender=supplier)


def test_split_of_financed_receivable_reverts(receivables, issue, supplier):
    rid = issue(amount=300 * UNIT)
    receivables.applyForFinancing(rid, sender=supplier)
    with ape.reverts(receivables.ReceivableNotHolder, id=rid, caller=supplier.address):
        receivables.split(rid, [100 * UNIT, 200 * UNIT], [supplier, supplier], sender=supplier)


def test_split_of_partly_repaid_receivable_reverts(receivables, issue, debtor, supplier):
    rid = issue(amount=300)
    receivables.repay(rid, 1, sender=debtor)
    with ape.reverts(receivables.ReceivableSplitPartiallyRepaid, id=rid, repaid=1):
        receivables.split(rid, [100, 200], [supplier, supplier], sender=supplier)


def test_split_refused_while_paused(receivables, issue, bank, supplier):
    rid = issue(amount=300)
    receivables.pause(sender=bank)
    with ape.reverts(receivables.EnforcedPause):
        receivables.split(rid, [100, 200], [supplier, supplier], sender=supplier)


def test_transfer_between_suppliers(receivables, issue, supplier, supplier2, supplier3):
    rid = issue()
    tx = receivables.transferFrom(supplier, supplier2, rid, sender=supplier)
    assert tx.events == [receivables.Transfer(supplier, supplier2, rid)]
    receivables.safeTransferFrom(supplier2, supplier3, rid, sender=supplier2)
    assert receivables.ownerOf(rid) == supplier3.address


def test_transfer_to_non_supplier_reverts(receivables, issue, supplier, stranger, debtor, roles):
    rid = issue()
    for target in (stranger, debtor):
        with ape.reverts(
            receivables.ReceivableParticipantNotAuthorized, account=target.address, requiredRoles=roles["SUPPLIER"]
        ):
            receivables.transferFrom(supplier, target, rid, sender=supplier)


def test_transfer_by_suspended_holder_reverts(receivables, registry, issue, bank, supplier, supplier2, roles):
    rid = issue()
    registry.suspend(supplier, b"\x00" * 32, sender=bank)
    with ape.reverts(
        receivables.ReceivableParticipantNotAuthorized, account=supplier.address, requiredRoles=roles["SUPPLIER"]
    ):
        receivables.transferFrom(supplier, supplier2, rid, sender=supplier)


def test_transfer_by_stranger_reverts(receivables, issue, supplier, supplier2):
    rid = issue()
    with ape.reverts(receivables.ERC721InsufficientApproval, operator=supplier2.address, tokenId=rid):
        receivables.transferFrom(supplier, supplier2, rid, sender=supplier2)


def test_transfer_of_settled_receivable_reverts(receivables, issue, debtor, supplier, supplier2):
    rid = issue(amount=5)
    receivables.repay(rid, 5, sender=debtor)
    with ape.reverts(receivables.ReceivableNotActive, id=rid, status=SETTLED):
        receivables.transferFrom(supplier, supplier2, rid, sender=supplier)


def test_transfer_refused_while_paused(receivables, issue, bank, supplier, supplier2):
    rid = issue()
    receivables.pause(sender=bank)
    with ape.reverts(receivables.EnforcedPause):
        receivables.transferFrom(supplier, supplier2, rid, sender=supplier)


# --- financing --------------------------------------------------------------------------------


def test_financing_moves_receivable_to_pool_and_pays_advance_in_one_tx(
    receivables, pool, token, issue, debtor, supplier
):
    rid = issue(amount=100_000 * UNIT, days=90)
    due = due_of(receivables, rid)
    pool_before, supplier_before = token.balanceOf(pool), token.balanceOf(supplier)
    tx = receivables.applyForFinancing(rid, sender=supplier)
    advance, discount, _ = expected_price(100_000 * UNIT, due - tx.timestamp)
    assert tx.events == [
        receivables.Transfer(supplier, pool, rid),
        receivables.FinancingApplied(rid, supplier, 100_000 * UNIT),
        receivables.ReceivableFinanced(
            rid, debtor, supplier, 100_000 * UNIT, advance, RATE, 100_000 * UNIT, 10_000, discount, 0
        ),
        pool.Disbursed(receivables, supplier, advance, pool_before - advance),
        token.Transfer(pool, supplier, advance),
    ]
    assert token.balanceOf(supplier) == supplier_before + advance
    assert token.balanceOf(pool) == pool_before - advance
    assert receivables.ownerOf(rid) == pool.address
    assert receivables.receivables(rid) == (debtor.address, pool.address, 100_000 * UNIT, due, True)
    assert receivables.receivable(rid).status == FINANCED
    assert receivables.debtorTerms(debtor).exposure == 100_000 * UNIT
    assert 98_500 * UNIT < advance < 98_600 * UNIT  # 6 % a year for 90 days ≈ 1.48 %


def test_quote_matches_the_financing(receivables, issue, supplier, chain):
    rid = issue(amount=777_777, days=33)
    due = due_of(receivables, rid)
    chain.pending_timestamp = due - 20 * DAY
    chain.mine()  # the quote is priced at the latest block's time
    assert receivables.quote(rid) == (0, expected_price(777_777, 20 * DAY))
    receivables.applyForFinancing(rid, sender=supplier)
    with ape.reverts(receivables.ReceivableNotActive, id=rid, status=FINANCED):
        receivables.quote(rid)


@settings(max_examples=60, deadline=None)
@given(
    outstanding=st.integers(1, 2**96 - 1),
    seconds=st.integers(0, 730 * DAY),
    rate=st.integers(0, 4_000),
)
def test_advance_is_rounded_once_in_the_pools_favour_by_less_than_one_unit(receivables, outstanding, seconds, rate):
    advance = receivables.priceAdvance(outstanding, seconds, (0, 0, rate, 0, 10_000, 0))[0]
    exact = outstanding * (1 - Fraction(rate * seconds, 10_000 * YEAR))
    assert advance == expected_advance(outstanding, seconds, rate)
    assert 0 <= exact - advance < 1


@settings(max_examples=40, deadline=None)
@given(
    outstanding=st.integers(1, 2**96 - 1),
    seconds=st.integers(0, 730 * DAY),
    rate=st.integers(0, 4_000),
    advance_rate=st.integers(1, 10_000),
    fee=st.integers(0, 1_000),
)
def test_a_haircut_and_a_fee_price_as_described(receivables, outstanding, seconds, rate, advance_rate, fee):
    """The advanced share (the rest is the haircut), less the discount on it and the fee on the whole."""
    price = tuple(receivables.priceAdvance(outstanding, seconds, (0, 0, rate, 0, advance_rate, fee)))
    assert price == expected_price(outstanding, seconds, rate, advance_rate, fee)
    assert price[0] <= outstanding * advance_rate // 10_000


def test_the_debtors_factoring_terms_price_the_quote_the_event_and_the_advance(
    receivables, pool, token, issue, bank, debtor, supplier, chain
):
    receivables.setDebtorTerms(debtor, 2_000_000 * UNIT, RATE, 8_000, 50, sender=bank)  # 80 % advanced, 0.5 % fee
    rid = issue(amount=100_000 * UNIT, days=90)
    chain.mine()
    seconds = due_of(receivables, rid) - chain.blocks.head.timestamp
    reason, (advance, discount, fee) = receivables.quote(rid)
    assert (advance, discount, fee) == expected_price(100_000 * UNIT, seconds, RATE, 8_000, 50)
    assert reason == Refusal.NONE and fee == 500 * UNIT and advance < 80_000 * UNIT - 500 * UNIT
    before = token.balanceOf(supplier)
    tx = receivables.applyForFinancing(rid, sender=supplier)
    advance, discount, fee = expected_price(100_000 * UNIT, due_of(receivables, rid) - tx.timestamp, RATE, 8_000, 50)
    (event,) = tx.events.filter(receivables.ReceivableFinanced)
    assert (event.advance, event.discount, event.fee, event.advanceRateBps) == (advance, discount, fee, 8_000)
    assert event.exposure == 100_000 * UNIT  # the face amount: the pool is owed all of it
    assert token.balanceOf(supplier) == before + advance


def test_factoring_terms_out_of_range_are_refused(receivables, bank, debtor):
    for advance_rate, fee in ((0, 0), (10_001, 0), (10_000, 1_001)):
        with ape.reverts(
            receivables.ReceivableFactoringTermsOutOfRange, advanceRateBps=advance_rate, feeBps=fee, maxFeeBps=1_000
        ):
            receivables.setDebtorTerms(debtor, 1, RATE, advance_rate, fee, sender=bank)


def test_a_debtor_cannot_issue_to_itself(receivables, registry, debtor, bank, chain, roles):
    registry.setRoles(debtor, roles["CORE_ENTERPRISE"] | roles["SUPPLIER"], sender=bank)
    with ape.reverts(receivables.ReceivableSelfIssued, account=debtor.address):
        receivables.issue(debtor, 1_000 * UNIT, chain.pending_timestamp + DAY, INVOICE, ref(1), sender=debtor)


def test_a_holder_who_is_the_debtor_is_refused_financing(receivables, registry, issue, debtor, supplier, bank, roles):
    """A core enterprise that is also a supplier can be handed its own receivable; financing it would be
    an unsecured loan with no trade behind it, so the quote and the application refuse it."""
    registry.setRoles(debtor, roles["CORE_ENTERPRISE"] | roles["SUPPLIER"], sender=bank)
    rid = issue()
    receivables.transferFrom(supplier, debtor, rid, sender=supplier)
    assert receivables.quote(rid)[0] == Refusal.HOLDER_IS_DEBTOR
    tx = receivables.applyForFinancing(rid, sender=debtor)
    assert [e.reason for e in tx.events.filter(receivables.FinancingRefused)] == [Refusal.HOLDER_IS_DEBTOR]
    assert receivables.ownerOf(rid) == debtor.address and receivables.receivable(rid).status == ACTIVE
    receivables.transferFrom(debtor, supplier, rid, sender=debtor)
    assert receivables.quote(rid)[0] == Refusal.NONE  # in a supplier's hands it is financeable again


def test_financing_by_non_holder_reverts(receivables, issue, supplier2):
    rid = issue()
    with ape.reverts(receivables.ReceivableNotHolder, id=rid, caller=supplier2.address):
        receivables.applyForFinancing(rid, sender=supplier2)


def test_financing_twice_reverts(receivables, issue, supplier):
    rid = issue()
    receivables.applyForFinancing(rid, sender=supplier)
    with ape.reverts(receivables.ReceivableNotHolder, id=rid, caller=supplier.address):
        receivables.applyForFinancing(rid, sender=supplier)


def test_financing_settled_receivable_reverts(receivables, issue, debtor, supplier):
    rid = issue(amount=10)
    receivables.repay(rid, 10, sender=debtor)
    with ape.reverts(receivables.ReceivableNotActive, id=rid, status=SETTLED):
        receivables.applyForFinancing(rid, sender=supplier)


def test_financing_by_suspended_holder_reverts(receivables, registry, issue, bank, supplier, roles):
    rid = issue()
    registry.suspend(supplier, b"\x00" * 32, sender=bank)
    with ape.reverts(
        receivables.ReceivableParticipantNotAuthorized, account=supplier.address, requiredRoles=roles["SUPPLIER"]
    ):
        receivables.applyForFinancing(rid, sender=supplier)


def test_financing_refused_while_paused(receivables, issue, bank, supplier):
    rid = issue()
    receivables.pause(sender=bank)
    with ape.reverts(receivables.EnforcedPause):
        receivables.applyForFinancing(rid, sender=supplier)


def _refusal_setups(receivables, registry, pool, bank, debtor, supplier, chain, issue):
    return {
        MATURED: lambda rid: chain.mine(timestamp=due_of(receivables, rid)),
        DEBTOR_NOT_AUTHORIZED: lambda rid: registry.suspend(debtor, b"\x00" * 32, sender=bank),
        NO_FACILITY: lambda rid: receivables.setDebtorTerms(debtor, 0, RATE, 10_000, 0, sender=bank),
        DEBTOR_IN_DEFAULT: lambda rid: _default_another(receivables, issue, supplier, chain),
        EXPOSURE_LIMIT: lambda rid: receivables.setDebtorTerms(
            debtor, 100_000 * UNIT - 1, RATE, 10_000, 0, sender=bank
        ),
        NO_LIQUIDITY: lambda rid: pool.withdraw(bank, pool.available(), sender=bank),
        POOL_PAUSED: lambda rid: pool.pause(sender=bank),
        ADVANCE_TOO_SMALL: lambda rid: None,
    }


def _default_another(receivables, issue, supplier, chain):
    other = issue(amount=1, days=1)
    chain.mine(timestamp=due_of(receivables, other) + GRACE + 1)
    receivables.markDefaulted(other, sender=supplier)


@pytest.mark.parametrize(
    "reason", [r for r in Refusal if r not in (Refusal.NONE, Refusal.HOLDER_IS_DEBTOR)]
)  # a holder its own test
def test_credit_refusal_is_recorded_with_its_reason_and_moves_nothing(
    receivables, registry, pool, token, bank, debtor, supplier, chain, issue, reason
):
    rid = issue(amount=1 if reason == ADVANCE_TOO_SMALL else 100_000 * UNIT, days=60)  # 1 unit: all discount
    _refusal_setups(receivables, registry, pool, bank, debtor, supplier, chain, issue)[reason](rid)
    balance = token.balanceOf(supplier)
    assert receivables.quote(rid)[0] == reason
    tx = receivables.applyForFinancing(rid, sender=supplier)
    assert tx.events == [receivables.FinancingRefused(rid, supplier, reason)]
    assert receivables.ownerOf(rid) == supplier.address
    assert receivables.receivable(rid).status == ACTIVE
    assert token.balanceOf(supplier) == balance


def test_exposure_limit_counts_every_financed_receivable(receivables, issue, debtor, supplier, bank):
    receivables.setDebtorTerms(debtor, 250 * UNIT, RATE, 10_000, 0, sender=bank)
    first, second, third = issue(amount=100 * UNIT), issue(amount=100 * UNIT), issue(amount=100 * UNIT)
    receivables.applyForFinancing(first, sender=supplier)
    receivables.applyForFinancing(second, sender=supplier)
    tx = receivables.applyForFinancing(third, sender=supplier)
    assert tx.events == [receivables.FinancingRefused(third, supplier, EXPOSURE_LIMIT)]
    receivables.repay(first, 60 * UNIT, sender=debtor)  # releases 60 of exposure: 140 + 100 ≤ 250
    assert receivables.debtorTerms(debtor).exposure == 140 * UNIT
    assert receivables.applyForFinancing(third, sender=supplier).events.filter(receivables.FinancingApplied)


def test_partly_repaid_receivable_is_financed_for_what_remains(receivables, issue, debtor, supplier):
    rid = issue(amount=100 * UNIT)
    receivables.repay(rid, 30 * UNIT, sender=debtor)
    tx = receivables.applyForFinancing(rid, sender=supplier)
    assert tx.events.filter(receivables.FinancingApplied) == [receivables.FinancingApplied(rid, supplier, 70 * UNIT)]
    assert receivables.debtorTerms(debtor).exposure == 70 * UNIT


# --- repayment --------------------------------------------------------------------------------


def test_partial_then_full_repayment_to_the_supplier(receivables, token, issue, debtor, supplier):
    rid = issue(amount=100 * UNIT)
    before = token.balanceOf(supplier)
    tx = receivables.repay(rid, 40 * UNIT, sender=debtor)
    assert tx.events == [
        receivables.ReceivableRepaid(rid, debtor, supplier, 40 * UNIT, 60 * UNIT),
        token.Transfer(debtor, supplier, 40 * UNIT),
    ]
    assert receivables.receivable(rid).status == ACTIVE
    assert receivables.outstandingOf(rid) == 60 * UNIT
    tx = receivables.repay(rid, 60 * UNIT, sender=debtor)
    assert tx.events == [
        receivables.ReceivableRepaid(rid, debtor, supplier, 60 * UNIT, 0),
        receivables.ReceivableSettled(rid),
        token.Transfer(debtor, supplier, 60 * UNIT),
    ]
    assert receivables.receivable(rid).status == SETTLED
    assert token.balanceOf(supplier) == before + 100 * UNIT


def test_repayment_of_financed_receivable_goes_to_pool_and_releases_exposure(
    receivables, pool, token, issue, debtor, supplier
):
    rid = issue(amount=100 * UNIT)
    receivables.applyForFinancing(rid, sender=supplier)
    pool_before, supplier_before = token.balanceOf(pool), token.balanceOf(supplier)
    tx = receivables.repay(rid, 100 * UNIT, sender=debtor)
    assert receivables.ReceivableRepaid(rid, debtor, pool, 100 * UNIT, 0) in tx.events
    assert token.balanceOf(pool) == pool_before + 100 * UNIT
    assert token.balanceOf(supplier) == supplier_before
    assert receivables.debtorTerms(debtor).exposure == 0
    assert receivables.receivable(rid).status == SETTLED
    assert receivables.receivables(rid)[4]  # stays marked as financed


def test_a_repayment_after_grace_is_late_it_marks_the_default_and_paying_up_cures_it(
    receivables, issue, debtor, supplier, chain
):
    """On time within grace; after it, the debtor may still pay (nobody need mark the default first):
    the receivable is in default from then, and paying the rest cures it."""
    rid = issue(amount=10, days=5)
    deadline = due_of(receivables, rid) + GRACE
    chain.mine(timestamp=deadline - 10)
    tx = receivables.repay(rid, 1, sender=debtor)
    assert not list(tx.events.filter(receivables.ReceivableDefaulted))
    chain.mine(timestamp=deadline + 1)
    tx = receivables.repay(rid, 4, sender=debtor)
    assert [e.event_name for e in tx.events if e.contract_address == receivables.address] == [
        "ReceivableDefaulted",
        "ReceivableRepaid",
    ]
    assert receivables.receivable(rid).status == DEFAULTED and receivables.debtorTerms(debtor).openDefaults == 1
    tx = receivables.repay(rid, 5, sender=debtor)
    assert receivables.ReceivableCured(rid, debtor, 0, 0, debtor) in tx.events
    assert receivables.receivable(rid).status == CURED and receivables.debtorTerms(debtor).openDefaults == 0


def test_repayment_errors(receivables, issue, debtor, supplier):
    rid = issue(amount=10)
    with ape.reverts(receivables.ReceivableNotDebtor, id=rid, caller=supplier.address):
        receivables.repay(rid, 1, sender=supplier)
    with ape.reverts(receivables.ReceivableZeroAmount):
        receivables.repay(rid, 0, sender=debtor)
    with ape.reverts(receivables.ReceivableRepaymentTooLarge, id=rid, outstanding=10, amount=11):
        receivables.repay(rid, 11, sender=debtor)
    receivables.repay(rid, 10, sender=debtor)
    with ape.reverts(receivables.ReceivableNotRepayable, id=rid, status=SETTLED):
        receivables.repay(rid, 1, sender=debtor)
    with ape.reverts(receivables.ReceivableUnknown, id=99):
        receivables.repay(99, 1, sender=debtor)


def test_repayment_needs_allowance(receivables, token, issue, debtor):
    rid = issue(amount=10)
    token.approve(receivables, 0, sender=debtor)
    with ape.reverts(token.ERC20InsufficientAllowance):
        receivables.repay(rid, 10, sender=debtor)


def test_a_repayment_with_a_permit_leaves_no_approval_standing(
    receivables, token, issue, debtor, supplier, stranger, chain
):
    """The debtor signs a permit for the exact amount and repays in one multicall: paid, allowance back
    to zero. One that would fail reverts with the repayment's own error and leaves no allowance; a
    permit someone submitted first does not stop the payment; a signature by another is the token's error."""
    rid = issue(amount=100 * UNIT)
    token.approve(receivables, 0, sender=debtor)

    def pay(amount, signer=debtor):
        deadline, v, r, s = permit_signature(token, chain, signer, receivables, amount, nonce=token.nonces(debtor))
        permit = receivables.selfPermit.encode_input(amount, deadline, v, r, s)
        return [permit, receivables.repay.encode_input(rid, amount)], (deadline, v, r, s)

    calls, _ = pay(40 * UNIT)
    receivables.multicall(calls, sender=debtor)
    assert receivables.outstandingOf(rid) == 60 * UNIT and token.allowance(debtor, receivables) == 0
    nonce = token.nonces(debtor)
    calls, _ = pay(61 * UNIT)
    with ape.reverts(receivables.ReceivableRepaymentTooLarge, id=rid, outstanding=60 * UNIT, amount=61 * UNIT):
        receivables.multicall(calls, sender=debtor)
    assert token.allowance(debtor, receivables) == 0 and token.nonces(debtor) == nonce  # nothing happened

    calls, (deadline, v, r, s) = pay(10 * UNIT)
    token.permit(debtor, receivables, 10 * UNIT, deadline, v, r, s, sender=stranger)  # front-run from the mempool
    receivables.multicall(calls, sender=debtor)
    assert receivables.outstandingOf(rid) == 50 * UNIT and token.allowance(debtor, receivables) == 0

    calls, _ = pay(10 * UNIT, signer=supplier)
    with ape.reverts(token.ERC2612InvalidSigner):
        receivables.multicall(calls, sender=debtor)


def test_repayment_goes_on_while_paused(receivables, issue, bank, debtor):
    rid = issue(amount=10)
    receivables.pause(sender=bank)
    receivables.repay(rid, 10, sender=debtor)
    assert receivables.receivable(rid).status == SETTLED


# --- default ----------------------------------------------------------------------------------


def test_default_only_after_grace_by_anyone(receivables, issue, debtor, supplier, stranger, chain):
    rid = issue(amount=100 * UNIT, days=30)
    receivables.applyForFinancing(rid, sender=supplier)
    receivables.repay(rid, 30 * UNIT, sender=debtor)
    deadline = due_of(receivables, rid) + GRACE
    chain.pending_timestamp = deadline  # the last second of grace
    with ape.reverts(receivables.ReceivableNotOverdue, id=rid, deadline=deadline):
        receivables.markDefaulted(rid, sender=stranger)
    chain.pending_timestamp = deadline + 1
    tx = receivables.markDefaulted(rid, sender=stranger)
    assert tx.events == [receivables.ReceivableDefaulted(rid, debtor, 70 * UNIT, stranger)]
    assert receivables.receivable(rid).status == DEFAULTED
    terms = receivables.debtorTerms(debtor)
    assert (terms.openDefaults, terms.exposure) == (1, 70 * UNIT)  # the bank keeps the loss exposure
    with ape.reverts(receivables.ReceivableNotRepayable, id=rid, status=DEFAULTED):
        receivables.markDefaulted(rid, sender=stranger)


def test_a_late_repayment_in_full_cures_the_default_and_financing_resumes(
    receivables, pool, token, issue, debtor, supplier, stranger, chain
):
    """One default stops financing against the debtor; paying it late, in full, cures it."""
    small = issue(amount=1, days=1)  # a 1-unit receivable nobody financed
    rid = issue(amount=100 * UNIT, days=30)
    chain.mine(timestamp=due_of(receivables, small) + GRACE + 1)
    receivables.markDefaulted(small, sender=stranger)
    assert receivables.quote(rid)[0] == DEBTOR_IN_DEFAULT
    tx = receivables.repay(small, 1, sender=debtor)  # late: after the default
    assert tx.events == [
        receivables.ReceivableRepaid(small, debtor, supplier, 1, 0),
        receivables.ReceivableCured(small, debtor, 0, 0, debtor),
        token.Transfer(debtor, supplier, 1),
    ]
    assert receivables.receivable(small).status == CURED
    assert receivables.debtorTerms(debtor).openDefaults == 0
    assert receivables.quote(rid)[0] == Refusal.NONE
    with ape.reverts(receivables.ReceivableNotRepayable, id=small, status=CURED):
        receivables.repay(small, 1, sender=debtor)


def test_the_bank_records_a_recovery_which_cures_the_default_and_releases_exposure(
    receivables, issue, bank, debtor, supplier, stranger, chain
):
    rid = issue(amount=100 * UNIT, days=30)
    receivables.applyForFinancing(rid, sender=supplier)
    receivables.repay(rid, 30 * UNIT, sender=debtor)
    chain.mine(timestamp=due_of(receivables, rid) + GRACE + 1)
    receivables.markDefaulted(rid, sender=stranger)
    receivables.repay(rid, 10 * UNIT, sender=debtor)  # a late part-payment goes to the pool, no cure yet
    assert receivables.debtorTerms(debtor).exposure == 60 * UNIT
    assert receivables.receivable(rid).status == DEFAULTED
    with ape.reverts(receivables.AccessControlUnauthorizedAccount):
        receivables.recordRecovery(rid, 0, sender=stranger)
    with ape.reverts(receivables.ReceivableRecoveryTooLarge, id=rid, outstanding=60 * UNIT, recovered=60 * UNIT + 1):
        receivables.recordRecovery(rid, 60 * UNIT + 1, sender=bank)
    tx = receivables.recordRecovery(rid, 45 * UNIT, sender=bank)  # collateral sold off chain
    assert tx.events == [receivables.ReceivableCured(rid, debtor, 45 * UNIT, 15 * UNIT, bank)]
    terms = receivables.debtorTerms(debtor)
    assert (terms.openDefaults, terms.exposure) == (0, 0)
    assert receivables.receivable(rid).status == CURED
    with ape.reverts(receivables.ReceivableNotRepayable, id=rid, status=CURED):
        receivables.recordRecovery(rid, 0, sender=bank)
    other = issue(amount=10, days=30)
    with ape.reverts(receivables.ReceivableNotRepayable, id=other, status=ACTIVE):
        receivables.recordRecovery(other, 0, sender=bank)  # only a default is cured


def test_a_receivable_keeps_the_grace_period_it_was_issued_with(receivables, issue, bank, debtor, supplier, chain):
    """A shorter grace period set later does not make an open receivable defaultable sooner; its parts
    keep it too. Receivables issued after the change get the new one."""
    rid = issue(amount=10, days=5)
    first = (
        receivables.split(rid, [4, 6], [supplier, supplier], sender=supplier)
        .events.filter(receivables.ReceivablePartCreated)[0]
        .id
    )
    receivables.setGracePeriod(DAY, sender=bank)
    later = issue(amount=10, days=5)
    assert receivables.receivable(first).gracePeriod == GRACE
    assert receivables.receivable(later).gracePeriod == DAY
    chain.mine(timestamp=due_of(receivables, first) + DAY + 1)
    with ape.reverts(receivables.ReceivableNotOverdue, id=first, deadline=due_of(receivables, first) + GRACE):
        receivables.markDefaulted(first, sender=bank)
    receivables.repay(first, 1, sender=debtor)  # still on time under its own grace period
    chain.mine(timestamp=due_of(receivables, later) + DAY + 1)
    receivables.markDefaulted(later, sender=bank)


def test_settled_receivable_cannot_default(receivables, issue, debtor, stranger, chain):
    rid = issue(amount=10, days=1)
    receivables.repay(rid, 10, sender=debtor)
    chain.mine(timestamp=due_of(receivables, rid) + GRACE + 1)
    with ape.reverts(receivables.ReceivableNotRepayable, id=rid, status=SETTLED):
        receivables.markDefaulted(rid, sender=stranger)


def test_split_parent_cannot_default(receivables, issue, supplier, stranger, chain):
    rid = issue(amount=10, days=1)
    receivables.split(rid, [4, 6], [supplier, supplier], sender=supplier)
    chain.mine(timestamp=due_of(receivables, rid) + GRACE + 1)
    with ape.reverts(receivables.ReceivableNotRepayable, id=rid, status=SPLIT):
        receivables.markDefaulted(rid, sender=stranger)


# --- bank administration ----------------------------------------------------------------------


def test_set_debtor_terms_emits(receivables, bank, debtor):
    tx = receivables.setDebtorTerms(debtor, 5 * UNIT, 450, 9_000, 25, sender=bank)
    assert tx.events == [receivables.DebtorTermsSet(debtor, 5 * UNIT, 450, 9_000, 25)]
    terms = receivables.debtorTerms(debtor)
    assert (terms.limit, terms.rateBps, terms.advanceRateBps, terms.feeBps) == (5 * UNIT, 450, 9_000, 25)


def test_set_debtor_terms_checks(receivables, bank, debtor, supplier, roles):
    with ape.reverts(receivables.ReceivableRateTooHigh, rateBps=4001, maxRateBps=4000):
        receivables.setDebtorTerms(debtor, 1, 4001, 10_000, 0, sender=bank)
    with ape.reverts(receivables.ReceivableAmountTooLarge, amount=2**96):
        receivables.setDebtorTerms(debtor, 2**96, 1, 10_000, 0, sender=bank)
    with ape.reverts(
        receivables.ReceivableParticipantNotAuthorized, account=supplier.address, requiredRoles=roles["CORE_ENTERPRISE"]
    ):
        receivables.setDebtorTerms(supplier, 1, 1, 10_000, 0, sender=bank)


def test_grace_period(receivables, bank):
    assert receivables.gracePeriod() == GRACE
    tx = receivables.setGracePeriod(3 * DAY, sender=bank)
    assert tx.events == [receivables.GracePeriodSet(3 * DAY)]
    with ape.reverts(receivables.ReceivableGracePeriodTooLong, gracePeriod=181 * DAY, maxGracePeriod=180 * DAY):
        receivables.setGracePeriod(181 * DAY, sender=bank)


def test_pause_and_unpause_emit(receivables, bank):
    assert receivables.pause(sender=bank).events == [receivables.Paused(bank)]
    assert receivables.unpause(sender=bank).events == [receivables.Unpaused(bank)]


def test_pause_flag_shares_its_slot_with_the_id_counter(receivables, issue, bank, chain):
    """Every issue checks the pause flag and bumps the id counter: Pausable's flag, the counter and the
    grace period pack into one slot (one cold read), as the order of Receivables' bases arranges.
    A reordering that splits them fails here, before bench.gas shows the extra read."""
    issue()
    issue()
    receivables.pause(sender=bank)
    packed = 1 | receivables.nextId() << 8 | GRACE << 72  # bool at byte 0, uint64 at 1, uint64 at 9
    words = [int.from_bytes(chain.provider.get_storage(receivables.address, slot), "big") for slot in range(32)]
    assert packed in words


GUARDED = {
    "setDebtorTerms": ("CREDIT_MANAGER_ROLE", lambda a: (a, 1, 1, 10_000, 0)),
    "setGracePeriod": ("CREDIT_MANAGER_ROLE", lambda a: (1,)),
    "recordRecovery": ("CREDIT_MANAGER_ROLE", lambda a: (0, 0)),
    "pause": ("PAUSER_ROLE", lambda a: ()),
    "unpause": ("PAUSER_ROLE", lambda a: ()),
}


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_guarded_function_rejects_caller_without_role(receivables, stranger, function):
    role_name, args = GUARDED[function]
    role = getattr(receivables, role_name)()
    with ape.reverts(receivables.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=role):
        getattr(receivables, function)(*args(stranger), sender=stranger)


def test_metadata_and_interfaces(receivables, registry, token, pool):
    assert (receivables.name(), receivables.symbol()) == ("Yinqi Receivable", "YQR")
    assert receivables.supportsInterface(bytes.fromhex("80ac58cd"))  # ERC-721
    assert receivables.supportsInterface(bytes.fromhex("7965db0b"))  # AccessControl
    assert (receivables.registry(), receivables.settlementToken(), receivables.pool()) == (
        registry.address,
        token.address,
        pool.address,
    )
