import ape
import pytest

from backend.core.dev_accounts import dev_account
from tests.contracts.conftest import (
    CREDIT_FEED,
    DAY,
    IOT_FEED,
    IOT_OPERATOR_INDEXES,
    OPERATOR_INDEXES,
    report_payload,
    score_word,
    sign_report,
)

OP = OPERATOR_INDEXES[0]


@pytest.fixture
def submit(gateway, credit_line, merchant, chain, bank):
    """Submit report `sequence` for the merchant, signed by `signers`, as of `age` seconds ago."""

    def _submit(sequence=1, signers=(OP,), age=60, words=None, sender=bank, feed=CREDIT_FEED, tamper=None):
        as_of = chain.pending_timestamp - age
        payload = report_payload(words or [score_word(merchant, 50_000, 700, 900)])
        signatures = sign_report(gateway, feed, sequence, as_of, payload, signers)
        return gateway.submit(feed, sequence, as_of, tamper or payload, signatures, sender=sender)

    return _submit


def test_operators_and_feed_are_set_up(gateway, credit_line, operators, bank):
    assert (gateway.operatorCount(CREDIT_FEED), gateway.operatorCount(IOT_FEED)) == (3, len(IOT_OPERATOR_INDEXES))
    assert all(gateway.isOperator(CREDIT_FEED, op) for op in operators)
    assert not any(gateway.isOperator(IOT_FEED, op) for op in operators)  # each feed has its own set
    feed = gateway.feeds(CREDIT_FEED)
    assert (feed.consumer, feed.lastSequence, feed.quorum, feed.maxAge) == (credit_line.address, 0, 1, DAY)
    assert gateway.hasRole(gateway.ORACLE_MANAGER_ROLE(), bank)


def test_signed_report_is_accepted_and_delivered(gateway, credit_line, merchant, stranger, submit):
    tx = submit(sequence=1, sender=stranger)  # anyone may relay
    (accepted,) = tx.events.filter(gateway.ReportAccepted)
    assert (accepted.feed, accepted.sequence, accepted.submitter) == (CREDIT_FEED, 1, stranger.address)
    assert tx.events.filter(credit_line.ScoresApplied)[0].updates[:20] == bytes.fromhex(merchant.address[2:])
    assert gateway.feeds(CREDIT_FEED).lastSequence == 1


def test_a_report_must_carry_the_next_sequence(gateway, submit):
    submit(sequence=1)
    # a replay, an older one, a gap, and the last sequence a uint64 holds (it would brick the feed)
    for sequence in (1, 0, 3, 2**64 - 1):
        with ape.reverts(gateway.GatewaySequenceNotNext, feed=CREDIT_FEED, sequence=sequence, expected=2):
            submit(sequence=sequence)
    submit(sequence=2)
    assert gateway.feeds(CREDIT_FEED).lastSequence == 2


def test_as_of_time_bounds(gateway, submit):
    with ape.reverts(gateway.GatewayReportFromFuture):
        submit(age=-(5 * 60 + 30))
    with ape.reverts(gateway.GatewayReportTooOld):
        submit(age=DAY + 60)
    submit(age=DAY - 60)


def test_signature_of_a_non_operator_is_refused(gateway, submit):
    with ape.reverts(gateway.GatewayNotOperator, feed=CREDIT_FEED, signer=dev_account(9).address):
        submit(signers=(9,))


def test_an_operator_of_another_feed_is_refused(gateway, submit):
    """The IoT daemon's key is an operator, but of the IoT feed: it cannot set a credit limit."""
    iot_operator = dev_account(IOT_OPERATOR_INDEXES[0]).address
    assert gateway.isOperator(IOT_FEED, iot_operator)
    with ape.reverts(gateway.GatewayNotOperator, feed=CREDIT_FEED, signer=iot_operator):
        submit(signers=IOT_OPERATOR_INDEXES, words=[score_word(iot_operator, 500_000, 900, 100)])


def test_tampered_payload_does_not_verify(gateway, submit, merchant):
    with ape.reverts(gateway.GatewayNotOperator):
        submit(tamper=report_payload([score_word(merchant, 400_000, 900, 100)]))


def test_k_of_n_quorum(gateway, bank, submit, credit_line):
    gateway.configureFeed(CREDIT_FEED, credit_line, 2, DAY, sender=bank)
    with ape.reverts(gateway.GatewayQuorumNotMet, signatures=1, quorum=2):
        submit(sequence=1, signers=(OP,))
    with ape.reverts(gateway.GatewaySignersNotAscending):
        submit(sequence=1, signers=(OP, OP))  # the same operator twice
    submit(sequence=1, signers=OPERATOR_INDEXES[:2])
    submit(sequence=2, signers=OPERATOR_INDEXES)  # more than k is fine


def test_signers_out_of_order_are_refused(gateway, bank, credit_line, chain, merchant):
    gateway.configureFeed(CREDIT_FEED, credit_line, 2, DAY, sender=bank)
    as_of = chain.pending_timestamp - 10
    payload = report_payload([score_word(merchant, 1_000, 700, 900)])
    ascending = sign_report(gateway, CREDIT_FEED, 1, as_of, payload, OPERATOR_INDEXES[:2])
    with ape.reverts(gateway.GatewaySignersNotAscending):
        gateway.submit(CREDIT_FEED, 1, as_of, payload, list(reversed(ascending)), sender=bank)


def test_unknown_feed_is_refused(gateway, submit):
    other = b"other".ljust(32, b"\x00")
    with ape.reverts(gateway.GatewayUnknownFeed, feed=other):
        submit(feed=other)


def test_operator_management_is_per_feed(gateway, bank, stranger, operators):
    tx = gateway.addOperator(CREDIT_FEED, stranger, sender=bank)
    assert tx.events == [gateway.OperatorAdded(CREDIT_FEED, stranger)]
    assert (gateway.isOperator(CREDIT_FEED, stranger), gateway.isOperator(IOT_FEED, stranger)) == (True, False)
    assert gateway.operatorCount(CREDIT_FEED) == len(operators) + 1
    with ape.reverts(gateway.GatewayOperatorExists, feed=CREDIT_FEED, operator=stranger.address):
        gateway.addOperator(CREDIT_FEED, stranger, sender=bank)
    gateway.addOperator(IOT_FEED, stranger, sender=bank)  # a key serving two feeds is admitted to each
    tx = gateway.removeOperator(CREDIT_FEED, stranger, sender=bank)
    assert tx.events == [gateway.OperatorRemoved(CREDIT_FEED, stranger)]
    assert (gateway.isOperator(CREDIT_FEED, stranger), gateway.isOperator(IOT_FEED, stranger)) == (False, True)
    with ape.reverts(gateway.GatewayOperatorUnknown, feed=CREDIT_FEED, operator=stranger.address):
        gateway.removeOperator(CREDIT_FEED, stranger, sender=bank)
    assert gateway.operatorCount(CREDIT_FEED) == len(operators)
    assert gateway.operatorCount(IOT_FEED) == len(IOT_OPERATOR_INDEXES) + 1


def test_zero_address_cannot_be_an_operator(gateway, bank, operators):
    with ape.reverts(gateway.GatewayZeroAddress):
        gateway.addOperator(CREDIT_FEED, "0x0000000000000000000000000000000000000000", sender=bank)
    assert gateway.operatorCount(CREDIT_FEED) == len(operators)


def test_removed_operator_no_longer_counts(gateway, bank, operators, submit):
    gateway.removeOperator(CREDIT_FEED, operators[0], sender=bank)
    with ape.reverts(gateway.GatewayNotOperator, feed=CREDIT_FEED, signer=operators[0].address):
        submit(signers=(OP,))


def test_an_operator_cannot_be_removed_below_the_feeds_quorum(gateway, bank, credit_line, operators, submit):
    gateway.configureFeed(CREDIT_FEED, credit_line, 3, DAY, sender=bank)
    with ape.reverts(gateway.GatewayOperatorsBelowQuorum, feed=CREDIT_FEED, operators=2, quorum=3):
        gateway.removeOperator(CREDIT_FEED, operators[0], sender=bank)
    assert gateway.operatorCount(CREDIT_FEED) == 3
    gateway.configureFeed(CREDIT_FEED, credit_line, 2, DAY, sender=bank)  # the bank lowers k first
    gateway.removeOperator(CREDIT_FEED, operators[0], sender=bank)
    submit(sequence=1, signers=OPERATOR_INDEXES[1:])  # the feed keeps running on the two left
    # a feed nobody configured has no quorum to keep: all its operators may go
    other = b"other".ljust(32, b"\x00")
    gateway.addOperator(other, operators[0], sender=bank)
    gateway.removeOperator(other, operators[0], sender=bank)


@pytest.mark.parametrize(
    ("feed", "quorum", "max_age", "eoa"),
    [
        (CREDIT_FEED, 0, DAY, False),
        (CREDIT_FEED, 4, DAY, False),  # three credit operators
        (IOT_FEED, 2, DAY, False),  # one IoT operator: the credit feed's three do not count
        (CREDIT_FEED, 1, 0, False),
        (CREDIT_FEED, 1, DAY, True),
    ],
)
def test_invalid_feed_configuration_is_refused(gateway, bank, credit_line, stranger, feed, quorum, max_age, eoa):
    consumer = stranger if eoa else credit_line
    with ape.reverts(
        gateway.GatewayInvalidFeed,
        feed=feed,
        consumer=consumer.address,
        quorum=quorum,
        operators=gateway.operatorCount(feed),
        maxAge=max_age,
    ):
        gateway.configureFeed(feed, consumer, quorum, max_age, sender=bank)


def test_configure_feed_keeps_its_sequence(gateway, bank, credit_line, submit):
    submit(sequence=1)
    submit(sequence=2)
    submit(sequence=3)
    tx = gateway.configureFeed(CREDIT_FEED, credit_line, 2, 2 * DAY, sender=bank)
    assert tx.events == [gateway.FeedConfigured(CREDIT_FEED, credit_line, 2, 2 * DAY)]
    assert gateway.feeds(CREDIT_FEED).lastSequence == 3


@pytest.mark.parametrize("function", ["addOperator", "removeOperator", "configureFeed"])
def test_manager_functions_need_the_role(gateway, credit_line, stranger, operators, function):
    args = {
        "addOperator": (CREDIT_FEED, stranger),
        "removeOperator": (CREDIT_FEED, operators[0]),
        "configureFeed": (CREDIT_FEED, credit_line, 1, DAY),
    }[function]
    with ape.reverts(gateway.AccessControlUnauthorizedAccount, account=stranger.address):
        getattr(gateway, function)(*args, sender=stranger)
