"""EquipmentLease: offer and accept, usage reports through the real gateway, tiered rent, payment,
late → grace → default, freeze and recall, close, and a billed period turned into a financed receivable."""

import ape
import pytest
from eth_utils import keccak

from backend.core.codec import lease_payload, pack_lease_word
from backend.core.enums import IgnoredReason, LeaseStatus, RiskFlag
from tests.contracts.conftest import DAY, IOT_FEED, IOT_OPERATOR_INDEXES, UNIT, permit_signature, sign_report

NONE, OFFERED, ACTIVE, FROZEN = LeaseStatus.NONE, LeaseStatus.OFFERED, LeaseStatus.ACTIVE, LeaseStatus.FROZEN
DEFAULTED, RECALLED, CLOSED = LeaseStatus.DEFAULTED, LeaseStatus.RECALLED, LeaseStatus.CLOSED
CANCELLED = LeaseStatus.CANCELLED
IGNORED_NOT_RUNNING, IGNORED_BILLED = IgnoredReason.NOT_RUNNING, IgnoredReason.ALREADY_BILLED
IGNORED_NOT_STARTED, IGNORED_IMPOSSIBLE = IgnoredReason.NOT_STARTED, IgnoredReason.IMPOSSIBLE
IDLE, GEOFENCE, FUEL, TAMPER = RiskFlag.IDLE, RiskFlag.GEOFENCE, RiskFlag.FUEL, RiskFlag.TAMPER
ALL_FLAGS = int(IDLE | GEOFENCE | FUEL | TAMPER)
PERIOD = 30 * DAY
TIERS = [(100, 50 * UNIT), (300, 40 * UNIT), (0xFFFFFFFF, 30 * UNIT)]  # hours up to, price per hour
TERMS = (PERIOD, 3, 10_000 * UNIT, 2_000 * UNIT)  # period, periods, deposit, minimum rent
PAYMENT_TERM, GRACE, REPORT_DELAY = 7 * DAY, 15 * DAY, DAY
REASON = b"geofence".ljust(32, b"\x00")


@pytest.fixture
def lessor(supplier):
    return supplier


@pytest.fixture
def lessee(debtor):
    return debtor


@pytest.fixture
def offered(lease, lessor, lessee):
    lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)
    return 0


@pytest.fixture
def active(lease, offered, lessee):
    lease.accept(offered, sender=lessee)
    return offered


@pytest.fixture
def report(gateway, chain, bank):
    """Push one signed report of lease items through the real gateway; returns the receipt."""
    sequence = iter(range(1, 10**6))

    def _report(*words):
        as_of = chain.pending_timestamp  # a report as of before the lease began could not apply
        payload = lease_payload(words)
        seq = next(sequence)
        signatures = sign_report(gateway, IOT_FEED, seq, as_of, payload, IOT_OPERATOR_INDEXES)
        return gateway.submit(IOT_FEED, seq, as_of, payload, signatures, sender=bank)

    return _report


def end_of_period(lease, lease_id, k):
    return lease.leaseOf(lease_id).start + (k + 1) * PERIOD


def test_offer_and_accept_take_the_deposit(lease, token, lessor, lessee, chain):
    tx = lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)
    (event,) = tx.events.filter(lease.LeaseOffered)
    assert (event.leaseId, event.lessor, event.lessee, event.deviceId) == (0, lessor.address, lessee.address, "EXC-001")
    assert event.device == keccak(text="EXC-001")
    assert tuple(event.terms) == TERMS and [tuple(t) for t in event.tiers] == TIERS
    assert lease.leaseOf(0).status == OFFERED
    assert lease.openLeaseOf("EXC-001") == (True, 0)

    before = token.balanceOf(lessee)
    tx = lease.accept(0, sender=lessee)
    assert token.balanceOf(lessee) == before - 10_000 * UNIT
    assert token.balanceOf(lease) == 10_000 * UNIT
    stored = lease.leaseOf(0)
    assert (stored.status, stored.start, stored.deposit) == (ACTIVE, tx.timestamp, 10_000 * UNIT)
    assert [tuple(t) for t in lease.tiersOf(0)] == TIERS


def test_accept_with_a_permit_takes_the_exact_deposit_and_leaves_no_approval(lease, token, offered, lessee, chain):
    token.approve(lease, 0, sender=lessee)
    deadline, v, r, s = permit_signature(token, chain, lessee, lease, 10_000 * UNIT)
    calls = [lease.selfPermit.encode_input(10_000 * UNIT, deadline, v, r, s), lease.accept.encode_input(offered)]
    lease.multicall(calls, sender=lessee)
    assert lease.leaseOf(offered).status == ACTIVE and token.balanceOf(lease) == 10_000 * UNIT
    assert token.allowance(lessee, lease) == 0


def test_offer_refusals(lease, lessor, lessee, stranger, supplier2, roles):
    with ape.reverts(lease.LeaseParticipantNotAuthorized, account=stranger.address, roles=roles["SUPPLIER"]):
        lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=stranger)
    with ape.reverts(lease.LeaseParticipantNotAuthorized, account=supplier2.address, roles=roles["LESSEE"]):
        lease.offer(supplier2, "EXC-001", TERMS, TIERS, sender=lessor)
    for terms in [(PERIOD, 0, 1, 1), (3599, 3, 1, 1), (366 * DAY + 1, 3, 1, 1), (PERIOD, 121, 1, 1)]:
        with ape.reverts(lease.LeaseInvalidTerms, periodSeconds=terms[0], periods=terms[1]):
            lease.offer(lessee, "EXC-001", terms, TIERS, sender=lessor)
    for device_id in ("", "D" * 65):
        with ape.reverts(lease.LeaseInvalidDeviceId, length=len(device_id)):
            lease.offer(lessee, device_id, TERMS, TIERS, sender=lessor)
    for tiers in ([], [(10, 5)] * 5):
        with ape.reverts(lease.LeaseInvalidTierCount, count=len(tiers), maxTiers=4):
            lease.offer(lessee, "EXC-001", TERMS, tiers, sender=lessor)
    bad_tiers = {  # tiers → the first bad one: (index, upToHours, pricePerHour)
        ((10, 0),): (0, 10, 0),  # no price
        ((10, 5), (20, 0)): (1, 20, 0),  # no price, though falling
        ((10, 5), (10, 4)): (1, 10, 4),  # bound not rising
        ((10, 5), (5, 4)): (1, 5, 4),  # bound falling
        ((10, 5), (20, 5)): (1, 20, 5),  # price not falling
        ((10, 4), (20, 5)): (1, 20, 5),  # price rising
        ((10, 5), (20, 4), (30, 4)): (2, 30, 4),  # the third tier is the bad one
    }
    for tiers, (index, hours, price) in bad_tiers.items():
        with ape.reverts(lease.LeaseInvalidTier, index=index, upToHours=hours, pricePerHour=price):
            lease.offer(lessee, "EXC-001", TERMS, list(tiers), sender=lessor)
    lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)
    with ape.reverts(lease.LeaseDeviceInUse, device=keccak(text="EXC-001"), leaseId=0):
        lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)


def test_only_the_lessee_accepts_and_only_once(lease, offered, lessor, lessee):
    with ape.reverts(lease.LeaseNotParty, leaseId=0, account=lessor.address):
        lease.accept(offered, sender=lessor)
    lease.accept(offered, sender=lessee)
    with ape.reverts(lease.LeaseWrongStatus, leaseId=0, status=ACTIVE):
        lease.accept(offered, sender=lessee)
    with ape.reverts(lease.LeaseUnknown, leaseId=7):
        lease.accept(7, sender=lessee)


def test_an_offer_is_withdrawn_by_its_lessor_or_the_bank_and_its_device_freed(lease, lessor, lessee, bank, stranger):
    lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)
    for outsider in (stranger, lessee):
        with ape.reverts(lease.LeaseNotParty, leaseId=0, account=outsider.address):
            lease.cancelOffer(0, sender=outsider)
    tx = lease.cancelOffer(0, sender=lessor)
    assert [(e.leaseId, e.by) for e in tx.events.filter(lease.LeaseOfferCancelled)] == [(0, lessor.address)]
    assert lease.leaseOf(0).status == CANCELLED and not lease.openLeaseOf("EXC-001")[0]
    with ape.reverts(lease.LeaseWrongStatus, leaseId=0, status=CANCELLED):
        lease.accept(0, sender=lessee)
    with ape.reverts(lease.LeaseWrongStatus, leaseId=0, status=CANCELLED):
        lease.cancelOffer(0, sender=lessor)
    lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)  # the device is free again
    tx = lease.cancelOffer(1, sender=bank)  # the bank's path: it frees a device an offer holds
    assert [(e.leaseId, e.by) for e in tx.events.filter(lease.LeaseOfferCancelled)] == [(1, bank.address)]
    assert not lease.openLeaseOf("EXC-001")[0]


def test_an_offer_nobody_accepts_lapses_and_frees_its_device(lease, lessor, lessee, supplier2, chain):
    tx = lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=supplier2)  # any supplier's offer holds a device…
    with ape.reverts(lease.LeaseDeviceInUse, device=keccak(text="EXC-001"), leaseId=0):
        lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)
    lapses_at = tx.timestamp + lease.OFFER_LIFETIME()
    assert lease.leaseOf(0).start == tx.timestamp  # an offer's start is when it was made
    chain.pending_timestamp = lapses_at
    with ape.reverts(lease.LeaseDeviceInUse, device=keccak(text="EXC-001"), leaseId=0):
        lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)  # still standing at its last second
    chain.pending_timestamp = lapses_at + 1
    with ape.reverts(lease.LeaseOfferLapsed, leaseId=0, expiredAt=lapses_at):
        lease.accept(0, sender=lessee)
    tx = lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)  # …only until it lapses
    assert [e.leaseId for e in tx.events.filter(lease.LeaseOfferExpired)] == [0]
    assert lease.leaseOf(0).status == CANCELLED and lease.openLeaseOf("EXC-001") == (True, 1)
    lease.accept(1, sender=lessee)
    assert lease.leaseOf(1).status == ACTIVE


def test_accept_checks_the_lessor_is_still_authorised(lease, offered, lessor, lessee, registry, bank, roles):
    registry.setRoles(lessor, roles["CORE_ENTERPRISE"], sender=bank)  # no longer a supplier (a lessor)
    with ape.reverts(lease.LeaseParticipantNotAuthorized, account=lessor.address, roles=roles["SUPPLIER"]):
        lease.accept(offered, sender=lessee)
    registry.setRoles(lessor, roles["SUPPLIER"], sender=bank)
    lease.accept(offered, sender=lessee)


def test_a_lessor_cannot_lease_to_itself(lease, lessor, registry, bank, roles):
    registry.setRoles(lessor, roles["SUPPLIER"] | roles["LESSEE"], sender=bank)
    with ape.reverts(lease.LeaseSelfDealing, account=lessor.address):
        lease.offer(lessor, "EXC-001", TERMS, TIERS, sender=lessor)


def test_an_offer_whose_rent_could_pass_96_bits_is_refused(lease, lessor, lessee):
    """Billing casts a period's rent to 96 bits: a price per hour of 2^48 or more is refused up front
    (8,784 hours at most in a period), so no lease is left that can be neither paid, closed nor recalled."""
    with ape.reverts(lease.LeaseInvalidTier, index=0, upToHours=10, pricePerHour=2**48):
        lease.offer(lessee, "EXC-002", (PERIOD, 1, 0, 0), [(10, 2**48), (0xFFFFFFFF, 1)], sender=lessor)
    most = 2**48 - 1
    lease.offer(lessee, "EXC-002", (366 * DAY, 1, 0, 2**96 - 1), [(0xFFFFFFFF, most)], sender=lessor)
    assert lease.rentFor(0, 366 * 24 * 100) == 2**96 - 1  # the minimum rent, the most that fits
    assert lease.rentFor(0, 366 * 24 * 100) >= 366 * 24 * most  # every hour at the highest price fits too


def test_tier_bounds_must_leave_every_tier_reachable(lease, lessor, lessee):
    """A tier bound (but the last, which has none) at or past the hours a period has would make the
    tiers after it unreachable: refused, naming the tier."""
    with ape.reverts(lease.LeaseInvalidTier, index=1, upToHours=720, pricePerHour=40 * UNIT):
        lease.offer(lessee, "EXC-002", TERMS, [(100, 50 * UNIT), (720, 40 * UNIT), (800, 30 * UNIT)], sender=lessor)
    lease.offer(lessee, "EXC-002", TERMS, [(100, 50 * UNIT), (719, 40 * UNIT), (10**9, 30 * UNIT)], sender=lessor)
    assert [tuple(t) for t in lease.tiersOf(0)] == [(100, 50 * UNIT), (719, 40 * UNIT), (0xFFFFFFFF, 30 * UNIT)]


@pytest.mark.parametrize(
    ("hundredths", "rent"),
    [
        (0, 2_000 * UNIT),  # idle: the minimum rent
        (40_00, 2_000 * UNIT),  # 40 h × 50 = 2,000: the floor and the tier meet
        (100_00, 5_000 * UNIT),  # 100 h in tier 1
        (150_00, 5_000 * UNIT + 50 * 40 * UNIT),  # + 50 h at 40
        (400_00, 5_000 * UNIT + 200 * 40 * UNIT + 100 * 30 * UNIT),  # + 200 h at 40, 100 h at 30
        (100_01, 5_000 * UNIT + 40 * UNIT // 100),  # a hundredth of an hour in tier 2
    ],
)
def test_rent_follows_the_marginal_tiers(lease, offered, hundredths, rent):
    assert lease.rentFor(offered, hundredths) == rent


def test_rent_rounds_up_once_and_the_price_per_hour_falls_with_use(lease, lessor, lessee):
    lease.offer(lessee, "EXC-009", (PERIOD, 1, 0, 0), [(10, 3), (20, 2)], sender=lessor)
    assert lease.rentFor(0, 1) == 1  # 0.03 units, rounded up
    assert lease.rentFor(0, 1_000) == 30
    assert lease.rentFor(0, 1_001) == 31  # 30.02 → 31
    averages = [lease.rentFor(0, h * 100) / h for h in (10, 20, 40, 80)]
    assert averages == sorted(averages, reverse=True) and averages[0] > averages[-1]


def test_usage_and_flags_reports(lease, active, report):
    tx = report(pack_lease_word(active, 0, 12_50, FUEL))
    assert [(e.leaseId, e.previous, e.flags) for e in tx.events.filter(lease.RiskFlagsChanged)] == [(0, 0, FUEL)]
    assert [(e.period, e.usage) for e in tx.events.filter(lease.UsageReported)] == [(0, 12_50)]
    # the same values again, a lower usage, flags left alone: nothing changes, nothing is emitted
    tx = report(pack_lease_word(active, 0, 12_50, FUEL), pack_lease_word(active, 0, 10_00))
    assert not list(tx.events.filter(lease.RiskFlagsChanged)) and not list(tx.events.filter(lease.UsageReported))
    # a raise and a clear in one report: both changes reach the chain, in order
    tx = report(pack_lease_word(active, 0, 13_00, FUEL | IDLE), pack_lease_word(active, 0, 13_00, 0))
    assert [(e.previous, e.flags) for e in tx.events.filter(lease.RiskFlagsChanged)] == [
        (FUEL, FUEL | IDLE),
        (FUEL | IDLE, 0),
    ]
    assert lease.leaseOf(active).flags == 0
    assert lease.periodOf(active, 0)[0][0] == 13_00  # (usage, rent, paid)


def test_report_items_that_cannot_apply_are_skipped_not_reverted(lease, active, offered, report, chain):
    tx = report(
        pack_lease_word(5, 0, 1_00, IDLE),  # no such lease
        pack_lease_word(active, 1, 1_00),  # period 1 has not begun
        pack_lease_word(active, 3, 1_00),  # beyond the term
        pack_lease_word(active, 0, PERIOD // 36 + 1),  # more hours than the period has
        pack_lease_word(active, 0, 7_00),  # fine
    )
    ignored = [(e.leaseId, e.period, e.reason) for e in tx.events.filter(lease.ReportItemIgnored)]
    assert ignored == [
        (5, 0, IGNORED_NOT_RUNNING),
        (0, 1, IGNORED_NOT_STARTED),
        (0, 3, IGNORED_NOT_STARTED),
        (0, 0, IGNORED_IMPOSSIBLE),
    ]
    assert [(e.period, e.usage) for e in tx.events.filter(lease.UsageReported)] == [(0, 7_00)]
    chain.mine(timestamp=end_of_period(lease, active, 0) + REPORT_DELAY)
    tx = report(pack_lease_word(active, 0, 9_00))  # too late: period 0 is billed on the way
    assert [(e.period, e.rent) for e in tx.events.filter(lease.RentBilled)] == [(0, 2_000 * UNIT)]
    assert [e.reason for e in tx.events.filter(lease.ReportItemIgnored)] == [IGNORED_BILLED]


def test_only_the_gateway_reports_and_payloads_are_whole_words(lease, gateway, bank, chain):
    with ape.reverts(lease.LeaseNotGateway, caller=bank.address):
        lease.onReport(IOT_FEED, 1, b"", sender=bank)
    as_of = chain.pending_timestamp - 10
    payload = b"\x01" * 33
    signatures = sign_report(gateway, IOT_FEED, 1, as_of, payload, IOT_OPERATOR_INDEXES)
    with ape.reverts(lease.LeaseMalformedReport, length=33):
        gateway.submit(IOT_FEED, 1, as_of, payload, signatures, sender=bank)


def test_billing_fixes_rent_from_usage_and_payment_goes_to_the_lessor(
    lease, active, report, token, lessor, lessee, chain, stranger
):
    report(pack_lease_word(active, 0, 150_00))
    end = end_of_period(lease, active, 0)
    chain.mine(timestamp=end + REPORT_DELAY - 5)
    assert lease.unbilledPeriods(active) == 0
    assert not list(lease.bill(active, sender=stranger).events.filter(lease.RentBilled))  # window still open
    chain.mine(timestamp=end + REPORT_DELAY)
    assert lease.unbilledPeriods(active) == 1  # what a keeper looks for
    tx = lease.bill(active, sender=stranger)
    assert lease.unbilledPeriods(active) == 0
    rent = 7_000 * UNIT
    assert [(e.period, e.usage, e.rent, e.dueAt) for e in tx.events.filter(lease.RentBilled)] == [
        (0, 150_00, rent, end + PAYMENT_TERM)
    ]
    assert lease.outstanding(active) == rent

    with ape.reverts(lease.LeasePaymentTooLarge, leaseId=0, outstanding=rent, amount=rent + 1):
        lease.payRent(active, rent + 1, sender=lessee)
    with ape.reverts(lease.LeaseZeroAmount):
        lease.payRent(active, 0, sender=lessee)
    before = token.balanceOf(lessor)
    tx = lease.payRent(active, 3_000 * UNIT, sender=lessee)
    assert [(e.period, e.amount, e.paid) for e in tx.events.filter(lease.RentPaid)] == [(0, 3_000 * UNIT, 3_000 * UNIT)]
    lease.payRent(active, 4_000 * UNIT, sender=lessee)
    assert token.balanceOf(lessor) == before + rent
    assert lease.outstanding(active) == 0 and lease.leaseOf(active).settled == 1


def test_unbilled_periods_counts_what_bill_would_bill(lease, offered, lessee, stranger, chain):
    """Many periods at once, never past the term, none for a lease not running; bill bills exactly them."""
    assert lease.unbilledPeriods(offered) == 0
    lease.accept(offered, sender=lessee)
    chain.mine(timestamp=end_of_period(lease, offered, 1) + REPORT_DELAY)
    assert lease.unbilledPeriods(offered) == 2
    chain.mine(timestamp=end_of_period(lease, offered, 9) + REPORT_DELAY)  # the term is 3 periods
    assert lease.unbilledPeriods(offered) == 3
    billed = lease.bill(offered, sender=stranger).events.filter(lease.RentBilled)
    assert [e.period for e in billed] == [0, 1, 2] and lease.unbilledPeriods(offered) == 0


def test_late_grace_default_then_recall_settles_the_deposit(
    lease, active, token, bank, lessor, lessee, stranger, chain
):
    end = end_of_period(lease, active, 0)
    due = end + PAYMENT_TERM
    chain.mine(timestamp=due + GRACE - 10)
    with ape.reverts(lease.LeaseNotDefaultable, leaseId=0):
        lease.markDefaulted(active, sender=stranger)  # late, but still within grace
    chain.mine(timestamp=due + GRACE + 1)
    tx = lease.markDefaulted(active, sender=stranger)
    (event,) = tx.events.filter(lease.LeaseDefaulted)
    assert (event.period, event.outstanding) == (0, 2_000 * UNIT)  # the minimum rent: no usage reported
    assert lease.leaseOf(active).status == DEFAULTED

    with ape.reverts(lease.AccessControlUnauthorizedAccount):
        lease.recall(active, sender=stranger)
    lessor_before, lessee_before = token.balanceOf(lessor), token.balanceOf(lessee)
    tx = lease.recall(active, sender=bank)
    running = -(-2_000 * UNIT * (tx.timestamp - end) // PERIOD)  # period 1 ran from `end`: its minimum pro rata
    assert [(e.period, e.rent) for e in tx.events.filter(lease.RentBilled)] == [(1, running)]
    owed = 2_000 * UNIT + running
    (event,) = tx.events.filter(lease.LeaseRecalled)
    assert (event.depositToLessor, event.depositToLessee) == (owed, 10_000 * UNIT - owed)
    assert token.balanceOf(lessor) == lessor_before + owed
    assert token.balanceOf(lessee) == lessee_before + 10_000 * UNIT - owed
    assert token.balanceOf(lease) == 0
    assert lease.leaseOf(active).status == RECALLED and lease.outstanding(active) == 0
    assert lease.openLeaseOf("EXC-001") == (False, 0)
    with ape.reverts(lease.LeaseWrongStatus, leaseId=0, status=RECALLED):
        lease.recall(active, sender=bank)


def test_recall_bills_every_ended_period_and_the_running_one_before_the_deposit_is_split(
    lease, active, report, token, bank, lessor, lessee, chain
):
    """A period that ended less than the report delay ago is billed at recall on the usage reported so far,
    and the running period for its time so far: the deposit no longer goes back to a lessee who owes it."""
    report(pack_lease_word(active, 0, 150_00))  # 150 h: 100 × 50 + 50 × 40 = 7,000
    lease.freeze(active, REASON, sender=bank)
    end = end_of_period(lease, active, 0)
    chain.mine(timestamp=end + REPORT_DELAY // 2)  # period 0 ended; its report window is still open
    lessor_before = token.balanceOf(lessor)
    tx = lease.recall(active, sender=bank)
    running = -(-2_000 * UNIT * (tx.timestamp - end) // PERIOD)
    assert [(e.period, e.usage, e.rent) for e in tx.events.filter(lease.RentBilled)] == [
        (0, 150_00, 7_000 * UNIT),
        (1, 0, running),
    ]
    (event,) = tx.events.filter(lease.LeaseRecalled)
    assert event.depositToLessor == 7_000 * UNIT + running
    assert token.balanceOf(lessor) == lessor_before + 7_000 * UNIT + running
    assert lease.leaseOf(active).billed == 2 and lease.outstanding(active) == 0


def test_recall_bills_the_running_period_on_its_usage_when_that_is_above_the_pro_rata_minimum(
    lease, active, report, token, bank, lessee, chain
):
    """Past what the deposit covers, the rest stays owed and may still be paid."""
    chain.mine(timestamp=lease.leaseOf(active).start + DAY)
    report(pack_lease_word(active, 0, 24_00))  # 24 h: 1,200 by the tiers, above a day's pro rata minimum
    lease.freeze(active, REASON, sender=bank)
    tx = lease.recall(active, sender=bank)
    assert [(e.period, e.rent) for e in tx.events.filter(lease.RentBilled)] == [(0, 24 * 50 * UNIT)]
    assert lease.outstanding(active) == 0


def test_the_report_path_reads_and_writes_the_record_as_the_struct_lays_it_out(lease, lessor, lessee, report, chain):
    """Reports read and write a lease's first slot as one word with hand-written bit offsets; leaseOf and
    periodOf read it through the compiler's layout. Members at large values pin the offsets: the longest
    period, the most periods, every flag, the most usage a period can hold, the open period moving on."""
    year = 366 * DAY
    lease.offer(lessee, "EXC-PIN", (year, 120, 0, 1), [(0xFFFFFFFF, 1)], sender=lessor)
    lease.accept(0, sender=lessee)
    most = year // 36  # 878,400 hundredths: every hour of the period
    tx = report(pack_lease_word(0, 0, most, ALL_FLAGS))
    assert [(e.period, e.usage) for e in tx.events.filter(lease.UsageReported)] == [(0, most)]
    row = lease.leaseOf(0)
    assert (row.flags, row.status, row.periods, row.periodSeconds, row.billed) == (ALL_FLAGS, ACTIVE, 120, year, 0)
    assert lease.periodOf(0, 0)[0][0] == most
    chain.mine(timestamp=row.start + year + 10)
    tx = report(pack_lease_word(0, 1, 5, 0))  # period 1 opens; period 0 (its window open) keeps its usage
    assert lease.periodOf(0, 0)[0][0] == most and lease.periodOf(0, 1)[0][0] == 5
    assert [(e.previous, e.flags) for e in tx.events.filter(lease.RiskFlagsChanged)] == [(ALL_FLAGS, 0)]
    report(pack_lease_word(0, 0, most - 1))  # lower: nothing
    chain.mine(timestamp=row.start + year + REPORT_DELAY + 10)
    tx = report(pack_lease_word(0, 1, 6))  # bills period 0 first, at every hour of it
    assert [(e.period, e.usage, e.rent) for e in tx.events.filter(lease.RentBilled)] == [(0, most, most // 100)]
    assert lease.leaseOf(0).billed == 1 and lease.periodOf(0, 1)[0][0] == 6
    assert [tuple(t) for t in lease.tiersOf(0)] == [(0xFFFFFFFF, 1)]  # the rate card, last in the slot, kept


def test_leases_on_one_schedule_share_its_rate_card(lease, lessor, lessee, chain):
    """A rent schedule is stored once however many leases use it: a later offer on it writes one slot
    fewer, and every lease still reads and bills by its own schedule, in any order of offers."""
    other = [(50, 9 * UNIT), (0xFFFFFFFF, 8 * UNIT)]
    first = lease.offer(lessee, "EXC-A", TERMS, TIERS, sender=lessor)
    second = lease.offer(lessee, "EXC-B", TERMS, other, sender=lessor)
    third = lease.offer(lessee, "EXC-C", TERMS, TIERS, sender=lessor)
    assert third.gas_used < first.gas_used - 15_000  # no new schedule slot
    assert [tuple(t) for t in lease.tiersOf(0)] == [tuple(t) for t in lease.tiersOf(2)] == TIERS
    assert [tuple(t) for t in lease.tiersOf(1)] == other
    assert lease.rentFor(1, 300_00) == 50 * 9 * UNIT + 250 * 8 * UNIT
    assert lease.rentFor(0, 300_00) == lease.rentFor(2, 300_00) == 100 * 50 * UNIT + 200 * 40 * UNIT
    assert second.gas_used > third.gas_used + 15_000  # a new schedule is stored once, by its first lease


def test_recall_bills_the_running_period_on_no_more_hours_than_have_passed(lease, active, report, bank, chain):
    """Usage reported for the running period counts at recall for at most the hours since it began."""
    start = lease.leaseOf(active).start
    chain.mine(timestamp=start + DAY)
    report(pack_lease_word(active, 0, 600_00))  # 600 h claimed a day into a 30-day period
    lease.freeze(active, REASON, sender=bank)
    tx = lease.recall(active, sender=bank)
    ran = (tx.timestamp - start) // 36  # hundredths of an hour since the period began
    hundredths = min(ran, 100_00) * 50 * UNIT + max(ran - 100_00, 0) * 40 * UNIT  # tiers 1 and 2
    assert [(e.period, e.rent) for e in tx.events.filter(lease.RentBilled)] == [(0, -(-hundredths // 100))]


def test_settings_apply_to_leases_offered_after_them_only(lease, active, report, bank, lessor, lessee, chain):
    """The bank's settings are fixed per lease when it is offered: a later change does not shorten an
    open lease's grace period, report window or payment term."""
    lease.setSettings(DAY, 0, 3600, sender=bank)
    assert tuple(lease.leaseOf(active).settings) == (PAYMENT_TERM, GRACE, REPORT_DELAY)
    assert tuple(lease.currentSettings()) == (DAY, 0, 3600)
    end = end_of_period(lease, active, 0)
    chain.mine(timestamp=end + 3600 + 1)
    lease.bill(active, sender=bank)
    assert lease.leaseOf(active).billed == 0  # its own report delay (a day) has not passed
    chain.mine(timestamp=end + PAYMENT_TERM + 1)
    with ape.reverts(lease.LeaseNotDefaultable, leaseId=0):
        lease.markDefaulted(active, sender=bank)  # its own grace period (15 days) runs
    assert lease.periodOf(active, 0)[1] == end + PAYMENT_TERM
    lease.offer(lessee, "EXC-002", TERMS, TIERS, sender=lessor)
    assert tuple(lease.leaseOf(1).settings) == (DAY, 0, 3600)


def test_freeze_is_the_banks_and_recall_needs_a_frozen_or_defaulted_lease(lease, active, bank, stranger, lessee):
    with ape.reverts(lease.LeaseWrongStatus, leaseId=0, status=ACTIVE):
        lease.recall(active, sender=bank)
    with ape.reverts(lease.AccessControlUnauthorizedAccount):
        lease.freeze(active, REASON, sender=stranger)
    tx = lease.freeze(active, REASON, sender=bank)
    assert [e.reason for e in tx.events.filter(lease.LeaseFrozen)] == [REASON]
    with ape.reverts(lease.LeaseWrongStatus, leaseId=0, status=FROZEN):
        lease.close(active, sender=lessee)
    lease.unfreeze(active, sender=bank)
    assert lease.leaseOf(active).status == ACTIVE


def test_close_at_term_end_returns_the_deposit_and_frees_the_device(
    lease, active, report, token, lessor, lessee, chain, stranger
):
    with ape.reverts(lease.LeaseNotClosable, leaseId=0, billed=0, settled=0):
        lease.close(active, sender=lessee)
    with ape.reverts(lease.LeaseNotParty, leaseId=0, account=stranger.address):
        lease.close(active, sender=stranger)
    chain.mine(timestamp=end_of_period(lease, active, 2) + REPORT_DELAY)
    lease.bill(active, sender=stranger)
    assert lease.outstanding(active) == 3 * 2_000 * UNIT
    lease.payRent(active, 3 * 2_000 * UNIT, sender=lessee)
    before = token.balanceOf(lessee)
    tx = lease.close(active, sender=lessor)
    assert [e.depositReturned for e in tx.events.filter(lease.LeaseClosed)] == [10_000 * UNIT]
    assert token.balanceOf(lessee) == before + 10_000 * UNIT
    assert lease.leaseOf(active).status == CLOSED
    lease.offer(lessee, "EXC-001", TERMS, TIERS, sender=lessor)  # the device may be leased again
    report(pack_lease_word(active, 2, 1_00, IDLE))  # reports on a closed lease change nothing
    assert lease.leaseOf(active).flags == 0


def test_a_billed_period_becomes_a_receivable_the_lessor_finances(
    lease, active, report, receivables, pool, token, lessor, lessee, chain
):
    report(pack_lease_word(active, 0, 100_00))
    end = end_of_period(lease, active, 0)
    chain.mine(timestamp=end + REPORT_DELAY)
    with ape.reverts(lease.LeaseNotParty, leaseId=0, account=lessee.address):
        lease.assignPeriod(active, 0, sender=lessee)
    with ape.reverts(lease.LeasePeriodNotAssignable, leaseId=0, period=1):
        lease.assignPeriod(active, 1, sender=lessor)  # not billed
    tx = lease.assignPeriod(active, 0, sender=lessor)
    (assigned,) = tx.events.filter(lease.PeriodAssigned)
    (issued,) = tx.events.filter(receivables.ReceivableIssued)
    rid = assigned.receivableId
    assert (issued.id, issued.debtor, issued.supplier, issued.amount, issued.dueDate) == (
        rid,
        lessee.address,
        lessor.address,
        5_000 * UNIT,
        end + PAYMENT_TERM,
    )
    assert receivables.ownerOf(rid) == lessor.address
    assert lease.outstanding(active) == 0 and lease.leaseOf(active).settled == 1
    _, due_at, is_assigned, receivable_id = lease.periodOf(active, 0)
    assert (due_at, is_assigned, receivable_id) == (end + PAYMENT_TERM, True, rid)
    with ape.reverts(lease.LeasePeriodNotAssignable, leaseId=0, period=0):
        lease.assignPeriod(active, 0, sender=lessor)  # once only

    before = token.balanceOf(lessor)
    tx = receivables.applyForFinancing(rid, sender=lessor)
    (financed,) = tx.events.filter(receivables.ReceivableFinanced)
    assert token.balanceOf(lessor) == before + financed.advance > before
    receivables.repay(rid, 5_000 * UNIT, sender=lessee)  # the lessee now pays the pool
    assert receivables.ownerOf(rid) == pool.address


def test_only_trusted_contracts_issue_for_a_debtor(receivables, lessor, lessee, chain):
    with ape.reverts(receivables.AccessControlUnauthorizedAccount):
        receivables.issueFor(
            lessee, lessor, UNIT, chain.pending_timestamp + DAY, b"\x00" * 32, b"\x01" * 32, sender=lessor
        )


def test_pause_stops_new_leases_but_not_payments(lease, active, bank, lessor, lessee, chain):
    lease.pause(sender=bank)
    with ape.reverts(lease.EnforcedPause):
        lease.offer(lessee, "EXC-002", TERMS, TIERS, sender=lessor)
    chain.mine(timestamp=end_of_period(lease, active, 0) + REPORT_DELAY)
    lease.payRent(active, 2_000 * UNIT, sender=lessee)
    assert lease.outstanding(active) == 0


def test_settings_are_the_banks_and_bounded(lease, bank, stranger):
    with ape.reverts(lease.AccessControlUnauthorizedAccount):
        lease.setSettings(DAY, DAY, DAY, sender=stranger)
    assert lease.MAX_SETTING_SECONDS() == 90 * DAY
    for bad in [(0, DAY, DAY), (DAY, DAY, 0), (91 * DAY, DAY, DAY), (DAY, 91 * DAY, DAY), (DAY, DAY, 91 * DAY)]:
        payment_term, grace, report_delay = bad
        with ape.reverts(
            lease.LeaseInvalidSettings,
            paymentTerm=payment_term,
            gracePeriod=grace,
            reportDelay=report_delay,
            maxSeconds=90 * DAY,
        ):
            lease.setSettings(*bad, sender=bank)
    tx = lease.setSettings(3 * DAY, 5 * DAY, 3600, sender=bank)
    assert [(e.paymentTerm, e.gracePeriod, e.reportDelay) for e in tx.events.filter(lease.SettingsSet)] == [
        (3 * DAY, 5 * DAY, 3600)
    ]
