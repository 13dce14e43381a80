"""The oracles build a report's EIP-712 message themselves (oracles.gateway.report_message): it must
be the message the gateway checks, so a signature made from pinned inputs is the one it accepts."""

import ape
from eth_account.messages import _hash_eip191_message

from backend.core.dev_accounts import dev_account
from oracles.gateway import DOMAIN_NAME, DOMAIN_VERSION, ReportDomain, report_message, sign_report
from tests.contracts.conftest import CREDIT_FEED, OPERATOR_INDEXES, report_payload, score_word


def test_the_domain_is_the_gateways(gateway):
    domain = gateway.eip712Domain()
    assert (domain.name, domain.version) == (DOMAIN_NAME, DOMAIN_VERSION)
    assert (domain.chainId, domain.verifyingContract) == (ape.chain.chain_id, gateway.address)


def test_the_digest_built_here_is_the_gateways(gateway, merchant):
    domain = ReportDomain(ape.chain.chain_id, gateway.address)
    for sequence, as_of, words in ((1, 0, []), (7, 1_700_000_000, [score_word(merchant, 50_000, 700, 900)])):
        payload = report_payload(words)
        digest = _hash_eip191_message(report_message(domain, CREDIT_FEED, sequence, as_of, payload))
        assert digest == gateway.reportDigest(CREDIT_FEED, sequence, as_of, payload)


def test_a_signature_for_another_chain_or_gateway_is_refused(gateway, credit_line, chain, bank):
    operator = dev_account(OPERATOR_INDEXES[0])
    payload, as_of = report_payload([]), chain.pending_timestamp
    sequence = gateway.feeds(CREDIT_FEED).lastSequence + 1
    here = ape.chain.chain_id
    for domain in (ReportDomain(here + 1, gateway.address), ReportDomain(here, credit_line.address)):
        signatures = sign_report(domain, CREDIT_FEED, sequence, as_of, payload, [operator])
        with ape.reverts(gateway.GatewayNotOperator):  # it recovers to someone who is no operator
            gateway.submit(CREDIT_FEED, sequence, as_of, payload, signatures, sender=bank)
    signatures = sign_report(ReportDomain(here, gateway.address), CREDIT_FEED, sequence, as_of, payload, [operator])
    gateway.submit(CREDIT_FEED, sequence, as_of, payload, signatures, sender=bank)
