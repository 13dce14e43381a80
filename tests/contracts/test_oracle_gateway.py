import ape
import pytest

from backend.core.dev_accounts import dev_account
from tests.contracts.conftest import CREDIT_FEED, DAY, OPERATOR_INDEXES, report_payload, score_word, sign_report

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
    assert gateway.operatorCount() == 3
    assert all(gateway.isOperator(op) for op in operators)
    feed = gateway.feeds(CREDIT_FEED)
    assert (feed.consumer, feed.lastSequence, feed.quorum, feed.maxAge) == (credit_line.address, 0, 1, DAY)
    assert gateway.hasRole(gateway.ORACLE_MANAGER_ROLE(), bank)


def test_signed_report_is_accepted_and_delivered(gateway, credit_line, merchant, stranger, submit):
    tx = submit(sequence=1, sender=stranger)  # anyone may relay
    (accepted,) = tx.events.filter(gateway.ReportAccepted)
    assert (accepted.feed, accepted.sequence, accepted.submitter) == (CREDIT_FEED, 1, stranger.address)
    assert tx.events.filter(credit_line.ScoresApplied)[0].updates[:20] == bytes.fromhex(merchant.address[2:])
    assert gateway.feeds(CREDIT_FEED).lastSequence == 1


def test_replayed_or_older_sequence_is_refused(gateway, submit):
    submit(sequence=5)
    for sequence in (5, 4):
        with ape.reverts(gateway.GatewaySequenceNotIncreasing, feed=CREDIT_FEED, sequence=sequence, lastSequence=5):
            submit(sequence=sequence)
    submit(sequence=6)


def test_as_of_time_bounds(gateway, submit):
    with ape.reverts(gateway.GatewayReportFromFuture):
        submit(age=-(5 * 60 + 30))
    with ape.reverts(gateway.GatewayReportTooOld):
        submit(age=DAY + 60)
    submit(age=DAY - 60)


def test_signature_of_a_non_operator_is_refused(gateway, submit):
    with ape.reverts(gateway.GatewayNotOperator, signer=dev_account(9).address):
        submit(signers=(9,))


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


def test_operator_management(gateway, bank, stranger, operators):
    tx = gateway.addOperator(stranger, sender=bank)
    assert tx.events == [gateway.OperatorAdded(stranger)]
    with ape.reverts(gateway.GatewayOperatorExists, operator=stranger.address):
        gateway.addOperator(stranger, sender=bank)
    tx = gateway.removeOperator(stranger, sender=bank)
    assert tx.events == [gateway.OperatorRemoved(stranger)]
    with ape.reverts(gateway.GatewayOperatorUnknown, operator=stranger.address):
        gateway.removeOperator(stranger, sender=bank)
    assert gateway.operatorCount() == len(operators)


def test_zero_address_cannot_be_an_operator(gateway, bank, operators):
    with ape.reverts(gateway.GatewayZeroAddress):
        gateway.addOperator("0x0000000000000000000000000000000000000000", sender=bank)
    assert gateway.operatorCount() == len(operators)


def test_removed_operator_no_longer_counts(gateway, bank, operators, submit):
    gateway.removeOperator(operators[0], sender=bank)
    with ape.reverts(gateway.GatewayNotOperator, signer=operators[0].address):
        submit(signers=(OP,))


@pytest.mark.parametrize(
    ("quorum", "max_age", "eoa"), [(0, DAY, False), (4, DAY, False), (1, 0, False), (1, DAY, True)]
)
def test_invalid_feed_configuration_is_refused(gateway, bank, credit_line, stranger, quorum, max_age, eoa):
    consumer = stranger if eoa else credit_line
    with ape.reverts(gateway.GatewayInvalidFeed):
        gateway.configureFeed(CREDIT_FEED, consumer, quorum, max_age, sender=bank)


def test_configure_feed_keeps_its_sequence(gateway, bank, credit_line, submit):
    submit(sequence=3)
    tx = gateway.configureFeed(CREDIT_FEED, credit_line, 2, 2 * DAY, sender=bank)
    assert tx.events == [gateway.FeedConfigured(CREDIT_FEED, credit_line, 2, 2 * DAY)]
    assert gateway.feeds(CREDIT_FEED).lastSequence == 3


@pytest.mark.parametrize("function", ["addOperator", "removeOperator", "configureFeed"])
def test_manager_functions_need_the_role(gateway, credit_line, stranger, operators, function):
    args = {
        "addOperator": (stranger,),
        "removeOperator": (operators[0],),
        "configureFeed": (CREDIT_FEED, credit_line, 1, DAY),
    }[function]
    with ape.reverts(gateway.AccessControlUnauthorizedAccount, account=stranger.address):
        getattr(gateway, function)(*args, sender=stranger)
