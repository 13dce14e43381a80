"""Fixtures shared by the daemons' tests."""

from typing import NamedTuple

import pytest
from web3 import Web3

from backend.core.chain import connect
from backend.core.manifest import Manifest
from backend.demo.seeding import LESSEE, LESSOR, seed
from backend.services.deploy import deploy
from backend.services.leasing import LeaseService


class OneLease(NamedTuple):
    """A deployed chain with the demo cast and one running lease, to report on."""

    url: str
    w3: Web3
    manifest: Manifest
    lease_id: int


@pytest.fixture
def one_lease(settings, local_chain) -> OneLease:
    manifest = deploy(settings, environ={}).manifest
    w3 = connect(local_chain.url)
    seed(w3, manifest)
    (lease_id,) = LeaseService(w3, manifest).lease_fleet(LESSOR, LESSEE, ["EXC-LEASED"]).values()
    return OneLease(local_chain.url, w3, manifest, lease_id)
