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
    manifest = deploy(quorum_two, environ={}).manifest
    w3 = connect(local_chain.url)
    assert manifest.contract(w3, "OracleGateway").functions.feeds(CREDIT_FEED).call().quorum == 2
    with pytest.raises(OracleError, match="needs 2 signatures; this oracle signs alone"):
        ReportPublisher(w3, manifest, dev_account(7), Outbox(tmp_path / "outbox.sqlite"), CREDIT_FEED)
