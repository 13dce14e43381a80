import ape
import pytest

from backend.core.enums import LineStatus
from tests.contracts.conftest import (
    ADMIN_DELAY,
    CREDIT_FEED,
    DAY,
    FEATURES_ROOT,
    MODEL_HASH,
    OPERATOR_INDEXES,
    UNIT,
    ascending,
    report_payload,
    score_word,
    sign_report,
)

YEAR = 365 * DAY
MAX_RATE_BPS = 3_650  # the default maximum rate: 36.5 % a year (the policy's bands go up to 18 %)
NONE, ACTIVE, FROZEN, DEFAULTED = LineStatus.NONE, LineStatus.ACTIVE, LineStatus.FROZEN, LineStatus.DEFAULTED
REASON = b"missed-repayment".ljust(32, b"\x00")


@pytest.fixture
def report(gateway, credit_line, chain, bank):
    """Push one signed report with `words` through the real gateway, at the feed's next sequence;
    returns the receipt."""

    def _report(*words, age=10):
        as_of = chain.pending_timestamp - age
        payload = report_payload(list(words))
        seq = gateway.feeds(CREDIT_FEED).lastSequence + 1
        signatures = sign_report(gateway, CREDIT_FEED, seq, as_of, payload, OPERATOR_INDEXES[:1])
        return gateway.submit(CREDIT_FEED, seq, as_of, payload, signatures, sender=bank)

    return _report


@pytest.fixture
def line(report, merchant):
    """The merchant scored 700 with a 50,000 DCNY limit at 9 % a year."""
    report(score_word(merchant, 50_000, 700, 900))
    return merchant


def interest(principal, rate_bps, seconds):
    return -(-principal * rate_bps * seconds // (10_000 * YEAR))


def test_report_sets_the_line_and_commits_to_model_and_features(credit_line, report, merchant, chain):
    word = score_word(merchant, 50_000, 700, 900)
    tx = report(word)
    (batch,) = tx.events.filter(credit_line.ScoresApplied)
    assert (batch.modelHash, batch.featuresRoot, batch.asOf) == (MODEL_HASH, FEATURES_ROOT, tx.timestamp - 10)
    assert batch.updates == word.to_bytes(32, "big")  # every value, for auditors
    line = credit_line.lineOf(merchant)
    assert (line.limit, line.score, line.rateBps, line.status, line.drawn) == (50_000 * UNIT, 700, 900, ACTIVE, 0)


def test_only_the_gateway_may_report(credit_line, bank):
    with ape.reverts(credit_line.CreditLineNotGateway, caller=bank.address):
        credit_line.onReport(CREDIT_FEED, 1, report_payload([]), sender=bank)


def test_malformed_report_reverts(credit_line, gateway, chain, bank):
    as_of = chain.pending_timestamp - 10
    payload = report_payload([]) + b"\x01" * 5
    signatures = sign_report(gateway, CREDIT_FEED, 1, as_of, payload, OPERATOR_INDEXES[:1])
    with ape.reverts(credit_line.CreditLineMalformedReport, length=69):
        gateway.submit(CREDIT_FEED, 1, as_of, payload, signatures, sender=bank)


@pytest.mark.parametrize(
    ("limit", "score", "rate"), [(500_001, 700, 900), (1_000, 1_001, 900), (1_000, 700, MAX_RATE_BPS + 1)]
)
def test_values_outside_the_banks_bounds_revert_the_whole_report(
    credit_line, report, merchant, supplier, limit, score, rate
):
    with ape.reverts(
        credit_line.CreditLineOutOfBounds, merchant=merchant.address, limit=limit * UNIT, score=score, rateBps=rate
    ):
        report(*ascending(score_word(supplier, 1_000, 700, 900), score_word(merchant, limit, score, rate)))
    assert credit_line.lineOf(supplier).status == NONE  # nothing of the report applied


def test_the_maximum_rate_is_the_banks_bound(credit_line, report, merchant, bank):
    assert credit_line.maxRateBps() == MAX_RATE_BPS
    report(score_word(merchant, 1_000, 700, MAX_RATE_BPS))  # at the bound: applied
    assert credit_line.lineOf(merchant).rateBps == MAX_RATE_BPS
    credit_line.setBounds(500_000 * UNIT, 30 * DAY, 100_000 * UNIT, 90 * DAY, 1_800, sender=bank)
    with ape.reverts(credit_line.CreditLineOutOfBounds, merchant=merchant.address, rateBps=1_801):
        report(score_word(merchant, 1_000, 700, 1_801))


def test_a_merchant_appears_at_most_once_in_a_report(credit_line, report, line, merchant, supplier):
    """Five words for one merchant would ratchet 50k → 450k past a 100k step with no held raise."""
    ratchet = [score_word(merchant, limit, 700, 900) for limit in (150_000, 250_000, 350_000, 450_000)]
    with ape.reverts(credit_line.CreditLineMerchantsNotAscending, merchant=merchant.address, previous=merchant.address):
        report(*ratchet)
    assert credit_line.lineOf(merchant).limit == 50_000 * UNIT
    low, high = sorted((merchant, supplier), key=lambda a: int(a.address, 16))
    with ape.reverts(credit_line.CreditLineMerchantsNotAscending, merchant=low.address, previous=high.address):
        report(score_word(high, 1_000, 700, 900), score_word(low, 1_000, 700, 900))
    report(score_word(low, 1_000, 700, 900), score_word(high, 1_000, 700, 900))


def test_a_raise_is_measured_against_the_limit_before_the_report(credit_line, report, line, merchant):
    tx = report(score_word(merchant, 450_000, 800, 600))  # one word, 400k above the limit: held
    assert credit_line.LimitIncreaseHeld(merchant, 50_000 * UNIT, 450_000 * UNIT) in tx.events
    assert credit_line.lineOf(merchant).limit == 50_000 * UNIT


def test_a_report_older_than_the_score_is_refused(credit_line, report, line, merchant, chain):
    scored_at = credit_line.lineOf(merchant).scoredAt
    stale_age = chain.pending_timestamp - scored_at + 5  # as of five seconds before the line's score
    with ape.reverts(
        credit_line.CreditLineReportOlderThanScore, merchant=merchant.address, asOf=scored_at - 5, scoredAt=scored_at
    ):
        report(score_word(merchant, 10_000, 560, 1_800), age=stale_age)
    assert credit_line.lineOf(merchant).scoredAt == scored_at
    report(score_word(merchant, 10_000, 560, 1_800), age=chain.pending_timestamp - scored_at)  # as of the same time


def test_draw_pays_from_the_pool(credit_line, pool, token, line, merchant):
    before, pool_before = token.balanceOf(merchant), token.balanceOf(pool)
    tx = credit_line.draw(20_000 * UNIT, sender=merchant)
    assert credit_line.Drawn(merchant, 20_000 * UNIT, 20_000 * UNIT) in tx.events
    assert pool.Disbursed(credit_line, merchant, 20_000 * UNIT, pool_before - 20_000 * UNIT) in tx.events
    assert token.balanceOf(merchant) == before + 20_000 * UNIT
    assert credit_line.lineOf(merchant).drawn == 20_000 * UNIT


def test_draw_checks(credit_line, registry, bank, line, merchant, supplier, chain, roles):
    with ape.reverts(credit_line.CreditLineNotMerchant, account=supplier.address):
        credit_line.draw(1, sender=supplier)
    with ape.reverts(credit_line.CreditLineZeroAmount):
        credit_line.draw(0, sender=merchant)
    with ape.reverts(
        credit_line.CreditLineLimitExceeded,
        merchant=merchant.address,
        available=50_000 * UNIT,
        requested=50_000 * UNIT + 1,
    ):
        credit_line.draw(50_000 * UNIT + 1, sender=merchant)
    registry.suspend(merchant, REASON, sender=bank)
    with ape.reverts(credit_line.CreditLineNotMerchant, account=merchant.address):
        credit_line.draw(1, sender=merchant)


def test_draw_refused_without_a_line_or_with_a_stale_score(
    credit_line, registry, bank, line, merchant, chain, roles, accounts
):
    newcomer = accounts[7]
    registry.onboard(newcomer, roles["MERCHANT"], b"\x07" * 32, "new", sender=bank)
    with ape.reverts(credit_line.CreditLineNotActive, merchant=newcomer.address, status=NONE):
        credit_line.draw(1, sender=newcomer)
    scored_at = credit_line.lineOf(merchant).scoredAt
    chain.pending_timestamp = scored_at + 30 * DAY + 1
    with ape.reverts(credit_line.CreditLineScoreStale, merchant=merchant.address, scoredAt=scored_at, maxAge=30 * DAY):
        credit_line.draw(1, sender=merchant)


def test_interest_accrues_per_second_and_is_paid_first(credit_line, line, merchant, chain):
    tx = credit_line.draw(10_000 * UNIT, sender=merchant)
    chain.pending_timestamp = tx.timestamp + 30 * DAY
    tx2 = credit_line.repay(100 * UNIT, sender=merchant)
    owed_interest = interest(10_000 * UNIT, 900, tx2.timestamp - tx.timestamp)
    assert credit_line.InterestAccrued(merchant, owed_interest, owed_interest) in tx2.events
    assert (
        credit_line.Repaid(
            merchant, owed_interest, 100 * UNIT - owed_interest, 10_000 * UNIT - (100 * UNIT - owed_interest)
        )
        in tx2.events
    )
    line_ = credit_line.lineOf(merchant)
    assert (line_.interest, line_.drawn) == (0, 10_000 * UNIT - (100 * UNIT - owed_interest))


def test_repay_everything_any_time(credit_line, token, pool, line, merchant, chain):
    credit_line.draw(1_000 * UNIT, sender=merchant)
    chain.mine(deltatime=7 * DAY)
    line_ = credit_line.lineOf(merchant)  # as of the latest block
    owed = line_.drawn + line_.interest
    with ape.reverts(credit_line.CreditLineRepaymentTooLarge, merchant=merchant.address):
        credit_line.repay(owed * 2, sender=merchant)
    pool_before = token.balanceOf(pool)
    credit_line.repay(owed, sender=merchant)
    left = credit_line.lineOf(merchant)
    assert left.drawn + left.interest <= interest(1_000 * UNIT, 900, 3)  # the seconds between view and repayment
    assert token.balanceOf(pool) == pool_before + owed
    with ape.reverts(credit_line.CreditLineZeroAmount):
        credit_line.repay(0, sender=merchant)


def test_repay_all_clears_the_debt_to_the_second(credit_line, token, pool, line, merchant, chain):
    """Interest accrues by the second, so "all" cannot be typed: repayAll pays what is owed when it runs,
    at most the amount offered, and leaves nothing owed."""
    credit_line.draw(1_000 * UNIT, sender=merchant)
    chain.mine(deltatime=7 * DAY)
    line_ = credit_line.lineOf(merchant)
    owed = line_.drawn + line_.interest
    with ape.reverts(credit_line.CreditLineOwedAboveMax, merchant=merchant.address, maxAmount=owed - 1):
        credit_line.repayAll(owed - 1, sender=merchant)  # less than owed even before this second's interest
    pool_before = token.balanceOf(pool)
    tx = credit_line.repayAll(owed + 10 * UNIT, sender=merchant)
    (repaid,) = tx.events.filter(credit_line.Repaid)
    paid = repaid.interestPaid + repaid.principalPaid
    assert owed <= paid < owed + 10 * UNIT and token.balanceOf(pool) == pool_before + paid
    left = credit_line.lineOf(merchant)
    assert (left.drawn, left.interest) == (0, 0)
    with ape.reverts(credit_line.CreditLineZeroAmount):
        credit_line.repayAll(10 * UNIT, sender=merchant)  # nothing owed


def test_limit_cut_below_drawn_allows_repayment_only(credit_line, report, line, merchant):
    credit_line.draw(30_000 * UNIT, sender=merchant)
    report(score_word(merchant, 10_000, 560, 1800))
    with ape.reverts(credit_line.CreditLineLimitExceeded, merchant=merchant.address, available=0, requested=1):
        credit_line.draw(1, sender=merchant)
    credit_line.repay(1_000 * UNIT, sender=merchant)


def test_rate_change_accrues_at_the_old_rate_first(credit_line, report, line, merchant, chain):
    tx = credit_line.draw(10_000 * UNIT, sender=merchant)
    chain.pending_timestamp = tx.timestamp + 10 * DAY
    tx2 = report(score_word(merchant, 50_000, 650, 1300))
    (accrued,) = tx2.events.filter(credit_line.InterestAccrued)
    assert accrued.amount == interest(10_000 * UNIT, 900, tx2.timestamp - tx.timestamp)


def test_raise_beyond_the_step_is_held_for_the_bank(credit_line, report, line, merchant, bank):
    tx = report(score_word(merchant, 200_000, 800, 600))  # step is 100,000: 50k → 200k is too far
    assert credit_line.LimitIncreaseHeld(merchant, 50_000 * UNIT, 200_000 * UNIT) in tx.events
    line_ = credit_line.lineOf(merchant)
    assert (line_.limit, line_.pendingLimit, line_.score) == (50_000 * UNIT, 200_000 * UNIT, 800)
    tx = credit_line.confirmLimit(merchant, 200_000 * UNIT, sender=bank)
    assert tx.events == [credit_line.LimitIncreaseConfirmed(merchant, 200_000 * UNIT)]
    assert credit_line.lineOf(merchant).limit == 200_000 * UNIT
    with ape.reverts(credit_line.CreditLineNothingPending, merchant=merchant.address):
        credit_line.confirmLimit(merchant, 200_000 * UNIT, sender=bank)


def test_the_bank_confirms_only_the_raise_it_saw(credit_line, report, line, merchant, bank):
    """A report landing between the bank's look and its confirmation changes what is pending."""
    report(score_word(merchant, 200_000, 800, 600))  # the bank sees 200k held
    report(score_word(merchant, 450_000, 850, 600))  # then the oracle holds 450k instead
    with ape.reverts(
        credit_line.CreditLinePendingLimitMismatch,
        merchant=merchant.address,
        pendingLimit=450_000 * UNIT,
        expectedLimit=200_000 * UNIT,
    ):
        credit_line.confirmLimit(merchant, 200_000 * UNIT, sender=bank)
    assert credit_line.lineOf(merchant).limit == 50_000 * UNIT


def test_freeze_unfreeze_and_default_rule(credit_line, line, merchant, bank, chain):
    credit_line.draw(5_000 * UNIT, sender=merchant)
    tx = credit_line.freeze(merchant, REASON, sender=bank)
    assert tx.events == [credit_line.LineFrozen(merchant, REASON, tx.timestamp + 90 * DAY)]
    assert credit_line.defaultableAt(merchant) == tx.timestamp + 90 * DAY
    with ape.reverts(credit_line.CreditLineNotActive, merchant=merchant.address, status=FROZEN):
        credit_line.draw(1, sender=merchant)
    credit_line.repay(1 * UNIT, sender=merchant)  # repaying is never blocked
    with ape.reverts(credit_line.CreditLineNotDefaultable, merchant=merchant.address):
        credit_line.markDefaulted(merchant, sender=bank)  # not frozen long enough
    assert credit_line.unfreeze(merchant, sender=bank).events == [credit_line.LineUnfrozen(merchant)]
    credit_line.freeze(merchant, REASON, sender=bank)
    chain.mine(deltatime=90 * DAY)
    tx = credit_line.markDefaulted(merchant, sender=bank)
    (defaulted,) = tx.events.filter(credit_line.LineDefaulted)
    assert defaulted.merchant == merchant.address and defaulted.principal > 0 and defaulted.interest > 0
    assert credit_line.lineOf(merchant).status == DEFAULTED
    with ape.reverts(credit_line.CreditLineNotFrozen, merchant=merchant.address, status=DEFAULTED):
        credit_line.unfreeze(merchant, sender=bank)


def test_only_a_frozen_line_can_be_unfrozen(credit_line, line, merchant, supplier, bank):
    with ape.reverts(credit_line.CreditLineNotFrozen, merchant=merchant.address, status=ACTIVE):
        credit_line.unfreeze(merchant, sender=bank)
    with ape.reverts(credit_line.CreditLineNotFrozen, merchant=supplier.address, status=NONE):
        credit_line.unfreeze(supplier, sender=bank)


def test_the_time_frozen_before_default_is_fixed_when_the_line_is_frozen(credit_line, line, merchant, bank, chain):
    """A later, shorter setting does not make an already frozen line defaultable sooner."""
    credit_line.draw(5_000 * UNIT, sender=merchant)
    frozen = credit_line.freeze(merchant, REASON, sender=bank)
    credit_line.setBounds(500_000 * UNIT, 30 * DAY, 100_000 * UNIT, DAY, 1_800, sender=bank)
    chain.mine(deltatime=2 * DAY)
    with ape.reverts(credit_line.CreditLineNotDefaultable, merchant=merchant.address):
        credit_line.markDefaulted(merchant, sender=bank)
    chain.mine(timestamp=frozen.timestamp + 90 * DAY)
    credit_line.markDefaulted(merchant, sender=bank)


def test_line_without_debt_cannot_default(credit_line, line, merchant, bank, chain):
    credit_line.freeze(merchant, REASON, sender=bank)
    chain.mine(deltatime=91 * DAY)
    with ape.reverts(credit_line.CreditLineNotDefaultable, merchant=merchant.address):
        credit_line.markDefaulted(merchant, sender=bank)


def test_pause_stops_drawing_not_repaying(credit_line, line, merchant, bank):
    credit_line.draw(10 * UNIT, sender=merchant)
    assert credit_line.pause(sender=bank).events == [credit_line.Paused(bank)]
    with ape.reverts(credit_line.EnforcedPause):
        credit_line.draw(1, sender=merchant)
    credit_line.repay(5 * UNIT, sender=merchant)


def test_bounds(credit_line, bank):
    tx = credit_line.setBounds(1_000 * UNIT, DAY, 10 * UNIT, 30 * DAY, 2_000, sender=bank)
    assert tx.events == [credit_line.BoundsSet(1_000 * UNIT, DAY, 10 * UNIT, 30 * DAY, 2_000)]
    assert credit_line.maxRateBps() == 2_000
    for bad in [(0, DAY, 1, 1, 1), (1, 0, 1, 1, 1), (1, DAY, 0, 1, 1), (1, DAY, 1, 0, 1), (1, DAY, 1, 1, 0)]:
        max_limit, max_score_age, max_limit_step, default_after_frozen, max_rate_bps = bad
        with ape.reverts(
            credit_line.CreditLineInvalidBounds,
            maxLimit=max_limit,
            maxScoreAge=max_score_age,
            maxLimitStep=max_limit_step,
            defaultAfterFrozen=default_after_frozen,
            maxRateBps=max_rate_bps,
        ):
            credit_line.setBounds(*bad, sender=bank)


GUARDED = {
    "confirmLimit": ("CREDIT_MANAGER_ROLE", lambda a: (a, 1)),
    "freeze": ("CREDIT_MANAGER_ROLE", lambda a: (a, REASON)),
    "unfreeze": ("CREDIT_MANAGER_ROLE", lambda a: (a,)),
    "markDefaulted": ("CREDIT_MANAGER_ROLE", lambda a: (a,)),
    "setBounds": ("CREDIT_MANAGER_ROLE", lambda a: (1, 1, 1, 1, 1)),
    "pause": ("PAUSER_ROLE", lambda a: ()),
    "unpause": ("PAUSER_ROLE", lambda a: ()),
}


@pytest.mark.parametrize("function", sorted(GUARDED))
def test_guarded_function_rejects_caller_without_role(credit_line, stranger, function):
    role_name, args = GUARDED[function]
    role = getattr(credit_line, role_name)()
    with ape.reverts(credit_line.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=role):
        getattr(credit_line, function)(*args(stranger), sender=stranger)


def test_report_keeps_a_frozen_line_frozen_and_a_later_report_clears_a_held_raise(
    credit_line, report, line, merchant, bank
):
    report(score_word(merchant, 200_000, 800, 600))
    assert credit_line.lineOf(merchant).pendingLimit == 200_000 * UNIT
    report(score_word(merchant, 60_000, 720, 800))  # within the step: applied, the held raise lapses
    line_ = credit_line.lineOf(merchant)
    assert (line_.limit, line_.pendingLimit, line_.score, line_.rateBps) == (60_000 * UNIT, 0, 720, 800)
    credit_line.freeze(merchant, REASON, sender=bank)
    report(score_word(merchant, 70_000, 730, 800))
    line_ = credit_line.lineOf(merchant)
    assert (line_.status, line_.limit, line_.score) == (FROZEN, 70_000 * UNIT, 730)


def test_one_report_sets_many_lines(credit_line, report, merchant, supplier, debtor):
    merchants = sorted((merchant, supplier, debtor), key=lambda a: int(a.address, 16))  # ascending, as required
    words = [score_word(m, 1_000 * (i + 1), 600 + i, 1_000 + i) for i, m in enumerate(merchants)]
    tx = report(*words)
    (batch,) = tx.events.filter(credit_line.ScoresApplied)
    assert batch.updates == b"".join(w.to_bytes(32, "big") for w in words)
    for i, m in enumerate(merchants):
        line_ = credit_line.lineOf(m)
        assert (line_.limit, line_.score, line_.rateBps, line_.status) == (
            1_000 * (i + 1) * UNIT,
            600 + i,
            1_000 + i,
            ACTIVE,
        )


U64, U40, U16 = 2**64 - 1, 2**40 - 1, 2**16 - 1


@pytest.fixture
def direct_line(project, bank, registry, token, pool, credit_line):
    """A second credit line whose gateway is the bank's account, so a test calls onReport itself (any
    as-of time), with a token of 0 decimals (a word's whole-token limit is then the stored limit)."""
    contract = bank.deploy(project.CreditLine, registry, token, 0, pool, bank, bank, ADMIN_DELAY)
    pool.grantRole(pool.LENDER_ROLE(), contract, sender=bank)
    token.approve(contract, 2**256 - 1, sender=bank)
    return contract


def test_report_path_writes_terms_as_the_struct_lays_them_out(direct_line, bank, merchant, chain):
    """onReport writes a line's Terms slot as one word with hand-written bit offsets; lineOf reads it
    through the compiler's struct layout. Every member at the largest value it can hold pins the offsets."""
    line = direct_line

    def report(limit, score, rate_bps, as_of):
        line.onReport(CREDIT_FEED, as_of, report_payload([score_word(merchant, limit, score, rate_bps)]), sender=bank)
        got = line.lineOf(merchant)
        return (got.limit, got.score, got.rateBps, got.scoredAt, got.status, got.pendingLimit)

    # a defaulted line: status at its largest member (Defaulted = 3), kept by later reports
    line.setBounds(U64, 30 * DAY, U64, 1, U16, sender=bank)
    report(10_000, 700, 900, chain.pending_timestamp)
    line.draw(1_000, sender=merchant)
    line.freeze(merchant, REASON, sender=bank)
    chain.mine(deltatime=2)
    line.markDefaulted(merchant, sender=bank)

    assert report(U64, 1_000, U16, U40) == (U64, 1_000, U16, U40, DEFAULTED, 0)
    assert report(0, 0, 0, U40) == (0, 0, 0, U40, DEFAULTED, 0)  # scoredAt never moves back: the rest to zero
    line.setBounds(U64, 30 * DAY, 1, 1, U16, sender=bank)
    held = line.onReport(CREDIT_FEED, U40, report_payload([score_word(merchant, U64, 1_000, U16)]), sender=bank)
    assert line.LimitIncreaseHeld(merchant, 0, U64) in held.events
    got = line.lineOf(merchant)
    assert (got.limit, got.score, got.rateBps, got.scoredAt, got.status, got.pendingLimit) == (
        0,
        1_000,
        U16,
        U40,
        DEFAULTED,
        U64,
    )


def test_a_merchant_revokes_its_consents_and_only_its_own(credit_line, merchant, stranger):
    """Each revocation moves the caller's consent nonce on (every consent signed before is void) and
    says so in an event; nobody can move another's."""
    assert credit_line.consentNonce(merchant) == 0
    tx = credit_line.revokeConsent(sender=merchant)
    assert tx.events == [credit_line.ConsentRevoked(merchant, 1)]
    credit_line.revokeConsent(sender=merchant)
    assert credit_line.consentNonce(merchant) == 2 and credit_line.consentNonce(stranger) == 0
