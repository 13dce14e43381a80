"""Fixtures shared by the daemons' tests."""

from typing import NamedTuple

import pytest
from web3 import Web3

from backend.core.chain import connect, send
from backend.core.enums import Role
from backend.core.manifest import Manifest
from backend.demo.seeding import BANK, LESSEE, LESSOR, seed
from backend.services.deploy import deploy
from backend.services.leasing import LeaseService
from backend.services.participants import bind_merchant_id


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


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A credit model trained on synthetic data (once per test module)."""
    from oracles.credit import train
    from oracles.credit.synthetic import generate

    out = tmp_path_factory.mktemp("credit-model")
    path = out / "train.csv"
    generate(2_000, 12, seed=1).to_csv(path, index=False)
    train.save(train.train(train.load(path, "default_flag"), progress=False), out / "model")
    return out / "model"


def onboard_merchants(w3: Web3, manifest: Manifest, wallets: dict[str, str]) -> None:
    """The bank onboards each wallet as a merchant and binds it to its merchant id (`wallets`: id → wallet)."""
    registry = manifest.contract(w3, "ParticipantRegistry")
    for merchant_id, wallet in wallets.items():
        call = registry.functions.onboard(wallet, int(Role.MERCHANT), Web3.keccak(text=merchant_id), merchant_id)
        send(w3, BANK, call, decoder=manifest.revert_decoder(), chain_id=manifest.chain_id)
        bind_merchant_id(w3, manifest, BANK, wallet, merchant_id)


def scrape(port: int) -> dict[str, float]:
    """A daemon's Prometheus metrics, as served on `port`: ``name{label="value",…}`` → value."""
    import requests
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            samples[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return samples
