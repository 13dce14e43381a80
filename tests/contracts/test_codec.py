"""The codec's words mean to the contracts what they mean to Python: packed by backend.core.codec,
read by CreditLine and EquipmentLease, and unpacked again from the events they emit."""

from backend.core.codec import (
    credit_payload,
    lease_payload,
    pack_credit_word,
    pack_lease_word,
    split_words,
    unpack_credit_word,
    unpack_lease_word,
)
from backend.core.enums import LeaseStatus, LineStatus, RiskFlag
from backend.core.money import UNIT
from tests.contracts.conftest import (
    CREDIT_FEED,
    FEATURES_ROOT,
    IOT_FEED,
    IOT_OPERATOR_INDEXES,
    MODEL_HASH,
    OPERATOR_INDEXES,
    sign_report,
)

PERIOD = 30 * 24 * 3600
SIGNERS = {CREDIT_FEED: OPERATOR_INDEXES[:1], IOT_FEED: IOT_OPERATOR_INDEXES}  # each feed's own operator


def submit(gateway, chain, bank, feed, payload, sequence, age=0):
    as_of = chain.pending_timestamp - age
    signatures = sign_report(gateway, feed, sequence, as_of, payload, SIGNERS[feed])
    return gateway.submit(feed, sequence, as_of, payload, signatures, sender=bank)


def test_a_credit_word_sets_the_line_it_describes(gateway, credit_line, chain, bank, merchant):
    last = gateway.feeds(CREDIT_FEED).lastSequence
    for step, (limit, score, rate) in enumerate(((50_000, 700, 900), (0, 1_000, 0), (49_999, 1, 3_650))):
        word = pack_credit_word(str(merchant), limit, score, rate)
        tx = submit(
            gateway, chain, bank, CREDIT_FEED, credit_payload(MODEL_HASH, FEATURES_ROOT, [word]), last + 1 + step
        )
        line = credit_line.lineOf(merchant)
        assert (line.limit, line.score, line.rateBps, line.status) == (limit * UNIT, score, rate, LineStatus.ACTIVE)
        (batch,) = tx.events.filter(credit_line.ScoresApplied)
        (update,) = [unpack_credit_word(w) for w in split_words(bytes(batch.updates))]
        assert (update.merchant, update.limit_whole, update.score, update.rate_bps) == (
            merchant.address,
            limit,
            score,
            rate,
        )


def test_a_lease_word_sets_the_usage_and_flags_it_describes(gateway, lease, chain, bank, supplier, debtor):
    terms, tiers = (PERIOD, 3, 1_000 * UNIT, 100 * UNIT), [(0xFFFFFFFF, 10 * UNIT)]
    lease.offer(debtor, "EXC-CODEC", terms, tiers, sender=supplier)
    lease_id = lease.leaseCount() - 1
    lease.accept(lease_id, sender=debtor)
    assert lease.leaseOf(lease_id).status == LeaseStatus.ACTIVE
    last = gateway.feeds(IOT_FEED).lastSequence
    chain.mine(deltatime=3600)
    items = [
        (12_50, RiskFlag.FUEL | RiskFlag.IDLE),
        (13_00, None),  # usage only: the flags stay
        (13_00, RiskFlag.TAMPER | RiskFlag.GEOFENCE),
        (14_00, RiskFlag(0)),
    ]
    flags_now, reported = RiskFlag(0), 0
    for step, (usage, flags) in enumerate(items):
        word = pack_lease_word(lease_id, 0, usage, flags)
        tx = submit(gateway, chain, bank, IOT_FEED, lease_payload([word]), last + 1 + step)
        flags_now = flags_now if flags is None else flags
        assert lease.leaseOf(lease_id).flags == flags_now
        rose = [e.usage for e in tx.events.filter(lease.UsageReported)]
        assert rose == ([usage] if usage > reported else [])  # usage only rises
        reported = max(reported, usage)
        item = unpack_lease_word(word)
        assert (item.lease_id, item.period, item.usage_hundredths, item.flags) == (lease_id, 0, usage, flags)
        changed = list(tx.events.filter(lease.RiskFlagsChanged))
        assert [e.flags for e in changed] == ([] if flags is None else [int(flags)])
