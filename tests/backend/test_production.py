"""Claims of docs/production.md that the other test modules do not already cover."""

import pytest

from backend.core.chain import connect
from backend.core.config import Settings
from backend.core.dev_accounts import dev_account
from backend.core.feeds import CREDIT_FEED
from backend.services.deploy import deploy
from oracles.errors import OracleError
from oracles.gateway import ReportPublisher
from oracles.outbox import Outbox


def test_an_oracle_refuses_a_feed_it_cannot_sign_alone(settings, local_chain, tmp_path):
    from dataclasses import replace

    quorum_two: Settings = replace(settings, oracle_quorum=2)
    two = f"{dev_account(7).address},{dev_account(6).address}"  # the credit feed's two operators
    manifest = deploy(quorum_two, environ={"YINQI_CREDIT_ORACLE_OPERATORS": two}).manifest
    w3 = connect(local_chain.url)
    assert manifest.contract(w3, "OracleGateway").functions.feeds(CREDIT_FEED).call().quorum == 2
    with pytest.raises(OracleError, match="needs 2 signatures; this oracle signs alone"):
        ReportPublisher(w3, manifest, dev_account(7), Outbox(tmp_path / "outbox.sqlite"), CREDIT_FEED)


def test_an_oracle_refuses_a_feed_its_key_does_not_operate(settings, local_chain, tmp_path):
    """The IoT daemon's key (dev account 8) is an operator of the IoT feed only."""
    manifest = deploy(settings, environ={}).manifest
    w3 = connect(local_chain.url)
    refused = f"{dev_account(8).address} is not an oracle operator of feed 0x{CREDIT_FEED.hex()}"
    with pytest.raises(OracleError, match=refused):
        ReportPublisher(w3, manifest, dev_account(8), Outbox(tmp_path / "outbox.sqlite"), CREDIT_FEED)
