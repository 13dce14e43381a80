import json
from dataclasses import replace

import pytest

from backend.core.build import load_artifacts
from backend.core.chain import connect
from backend.core.config import DEV_CHAIN_ID
from backend.core.dev_accounts import dev_account
from backend.core.errors import ConfigError, ManifestError
from backend.core.feeds import CREDIT_FEED, IOT_FEED
from backend.core.manifest import Manifest
from backend.core.network import rpc_url_for
from backend.local.node import LocalChain
from backend.services.deploy import STEPS, deploy
from tests.conftest import free_port


def test_deploy_writes_a_manifest_of_live_contracts(settings, local_chain):
    result = deploy(settings, environ={})
    assert result.deployed == [step.name for step in STEPS]
    path = settings.deployments_dir / f"{DEV_CHAIN_ID}.json"
    data = json.loads(path.read_text())
    assert data["chainId"] == DEV_CHAIN_ID
    assert data["deployer"] == dev_account(0).address
    assert data["gitCommit"]
    w3 = connect(local_chain.url)
    artifacts = load_artifacts(settings)
    for name, record in data["contracts"].items():
        assert w3.eth.get_code(record["address"]), name
        assert record["abi"] == artifacts[name].abi
        assert data["deployBlock"] <= record["block"]
        assert w3.eth.get_transaction_receipt(record["transaction"])["contractAddress"] == record["address"]


def test_deployed_contracts_grant_the_bank_its_roles(settings, local_chain):
    manifest = deploy(settings, environ={}).manifest
    w3 = connect(local_chain.url)
    bank = dev_account(0).address
    token = manifest.contract(w3, "SettlementToken")
    registry = manifest.contract(w3, "ParticipantRegistry")
    assert token.functions.hasRole(token.functions.MINTER_ROLE().call(), bank).call()
    assert registry.functions.defaultAdmin().call() == bank
    assert registry.functions.hasRole(registry.functions.REGISTRAR_ROLE().call(), bank).call()
    assert registry.functions.defaultAdminDelay().call() == settings.admin_transfer_delay
    pool = manifest.contract(w3, "FinancingPool")
    receivables = manifest.contract(w3, "Receivables")
    assert pool.functions.hasRole(pool.functions.LENDER_ROLE().call(), receivables.address).call()
    assert receivables.functions.pool().call() == pool.address
    assert receivables.functions.gracePeriod().call() == settings.grace_period
    credit_line = manifest.contract(w3, "CreditLine")
    gateway = manifest.contract(w3, "OracleGateway")
    assert pool.functions.hasRole(pool.functions.LENDER_ROLE().call(), credit_line.address).call()
    assert credit_line.functions.gateway().call() == gateway.address
    credit_key, iot_key = dev_account(7).address, dev_account(8).address
    is_operator = gateway.functions.isOperator
    assert [is_operator(CREDIT_FEED, credit_key).call(), is_operator(IOT_FEED, iot_key).call()] == [True, True]
    # each key signs its own feed only: the IoT daemon's key cannot set a credit limit, nor the reverse
    assert [is_operator(CREDIT_FEED, iot_key).call(), is_operator(IOT_FEED, credit_key).call()] == [False, False]
    assert gateway.functions.feeds(CREDIT_FEED).call().consumer == credit_line.address
    assert credit_line.functions.maxRateBps().call() == settings.credit_max_rate_bps


def test_operators_and_the_maximum_rate_come_from_the_environment(settings, local_chain):
    a, b = dev_account(5).address, dev_account(6).address
    bank_rate = replace(settings, credit_max_rate_bps=1_800)
    result = deploy(bank_rate, environ={"YINQI_CREDIT_ORACLE_OPERATORS": f"{a}, {b}"})
    assert "CreditLine maximum rate 1800 bps" in result.granted
    w3 = connect(local_chain.url)
    gateway = result.manifest.contract(w3, "OracleGateway")
    credit_line = result.manifest.contract(w3, "CreditLine")
    assert gateway.functions.operatorCount(CREDIT_FEED).call() == 2
    assert [gateway.functions.isOperator(CREDIT_FEED, x).call() for x in (a, b)] == [True, True]
    assert gateway.functions.isOperator(IOT_FEED, dev_account(8).address).call()  # the IoT feed's default
    assert gateway.functions.operatorCount(IOT_FEED).call() == 1
    assert credit_line.functions.maxRateBps().call() == 1_800
    assert credit_line.functions.maxLimitStep().call() > 0  # the other bounds kept
    assert deploy(bank_rate, environ={"YINQI_CREDIT_ORACLE_OPERATORS": f"{a},{b}"}).granted == []


def test_one_key_for_both_feeds_is_refused(settings, local_chain):
    both = dev_account(5).address
    environ = {"YINQI_CREDIT_ORACLE_OPERATORS": both, "YINQI_IOT_ORACLE_OPERATORS": both.lower()}
    with pytest.raises(ConfigError, match="one key signs for one feed only"):
        deploy(settings, environ=environ)


def test_the_old_shared_operator_variable_is_refused(settings, local_chain):
    with pytest.raises(ConfigError, match="YINQI_CREDIT_ORACLE_OPERATORS and YINQI_IOT_ORACLE_OPERATORS"):
        deploy(settings, environ={"YINQI_ORACLE_OPERATORS": dev_account(7).address})


def test_deploy_adds_only_what_an_older_manifest_lacks(settings, local_chain):
    first = deploy(settings, environ={}).manifest
    path = Manifest.path_for(settings, DEV_CHAIN_ID)
    older = Manifest.load(path)
    del older.contracts["Receivables"]  # as if written before Receivables existed
    older.save(path)
    result = deploy(settings, environ={})
    assert result.deployed == ["Receivables"]
    assert result.granted == ["FinancingPool.LENDER_ROLE → Receivables", "Receivables.ISSUER_ROLE → EquipmentLease"]
    assert result.manifest.record("FinancingPool").address == first.record("FinancingPool").address


def test_second_deploy_is_a_no_op(settings, local_chain):
    first = deploy(settings, environ={})
    height = connect(local_chain.url).eth.block_number
    second = deploy(settings, environ={})
    assert second.deployed == []
    assert second.manifest.to_json() == first.manifest.to_json()
    assert connect(local_chain.url).eth.block_number == height  # not one transaction sent
    assert [p.name for p in settings.deployments_dir.iterdir()] == [f"{DEV_CHAIN_ID}.json"]


def test_fresh_deploys_anew(settings, local_chain):
    first = deploy(settings, environ={}).manifest
    second = deploy(settings, fresh=True, environ={}).manifest
    for name in first.contracts:
        assert first.record(name).address != second.record(name).address
    assert Manifest.load(Manifest.path_for(settings, DEV_CHAIN_ID)).to_json() == second.to_json()


def test_manifest_of_a_reset_chain_is_replaced(settings, tmp_path):
    with LocalChain(settings):
        old = deploy(settings, environ={}).manifest
    settings.chain_state_file.unlink()  # the chain is reset: its contracts are gone
    with LocalChain(settings) as node:
        w3 = connect(node.url)
        w3.eth.wait_for_transaction_receipt(  # move the nonce so new addresses differ
            w3.eth.send_raw_transaction(
                dev_account(0)
                .sign_transaction(
                    {
                        "to": dev_account(1).address,
                        "value": 1,
                        "gas": 21000,
                        "nonce": 0,
                        "chainId": DEV_CHAIN_ID,
                        "maxFeePerGas": 10**10,
                        "maxPriorityFeePerGas": 1,
                    }
                )
                .raw_transaction
            )
        )
        result = deploy(settings, environ={})
        assert result.deployed == [step.name for step in STEPS]
        assert all(w3.eth.get_code(r.address) for r in result.manifest.contracts.values())
        assert result.manifest.record("SettlementToken").address != old.record("SettlementToken").address


@pytest.fixture
def foreign_chain(tmp_path):
    """An EVM chain that is not the dev chain: dev keys must not be used on it."""
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "foreign", free_port(), chain_id=4242)
    with LocalChain(settings):
        yield settings


def test_foreign_chain_without_key_variable_is_refused(foreign_chain):
    with pytest.raises(ConfigError, match="YINQI_DEPLOYER_KEY"):
        deploy(foreign_chain, environ={})


def test_foreign_chain_deploys_with_key_from_environment(foreign_chain):
    operator = dev_account(5)  # funded on any anvil; stands in for a key from a vault
    result = deploy(foreign_chain, environ={"YINQI_DEPLOYER_KEY": "0x" + operator.key.hex().removeprefix("0x")})
    assert result.manifest.chain_id == 4242
    assert result.manifest.deployer == operator.address
    w3 = connect(foreign_chain.rpc_url)
    registry = result.manifest.contract(w3, "ParticipantRegistry")
    assert registry.functions.defaultAdmin().call() == operator.address


def test_foreign_chain_uses_an_existing_settlement_token(foreign_chain):
    key = "0x" + dev_account(5).key.hex().removeprefix("0x")
    first = deploy(foreign_chain, environ={"YINQI_DEPLOYER_KEY": key})
    token = first.manifest.record("SettlementToken").address
    result = deploy(foreign_chain, fresh=True, environ={"YINQI_DEPLOYER_KEY": key, "YINQI_SETTLEMENT_TOKEN": token})
    assert result.manifest.record("SettlementToken").address == token
    assert result.manifest.record("SettlementToken").transaction is None
    names = {item.get("name") for item in result.manifest.record("SettlementToken").abi}
    assert "balanceOf" in names and "mint" not in names


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"YINQI_DEPLOYER_KEY": "0x1234"}, "not a valid private key"),
        ({"YINQI_DEPLOYER_KEYSTORE": "/nonexistent.json", "YINQI_DEPLOYER_PASSWORD": "x"}, "no such file"),
        ({"YINQI_DEPLOYER_KEYSTORE": "/nonexistent.json"}, "YINQI_DEPLOYER_PASSWORD is not"),
    ],
)
def test_bad_key_variables_are_named(foreign_chain, environ, message):
    with pytest.raises(ConfigError, match=message):
        deploy(foreign_chain, environ=environ)


def test_keystore_signs_as_deployer(foreign_chain, tmp_path):
    from eth_account import Account

    operator = dev_account(6)
    keystore = tmp_path / "deployer.json"
    keystore.write_text(json.dumps(Account.encrypt(operator.key, "s3cret", iterations=2)))
    result = deploy(
        foreign_chain, environ={"YINQI_DEPLOYER_KEYSTORE": str(keystore), "YINQI_DEPLOYER_PASSWORD": "s3cret"}
    )
    assert result.manifest.deployer == operator.address


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ("ethereum:nosuchnet", "unknown network"),
        ("nosuchchain:mainnet", "unknown network"),
        ("not a network", "is not 'local'"),
        ("ethereum:sepolia", "has no RPC uri"),
    ],
)
def test_bad_network_names_are_refused(settings, network, message):
    with pytest.raises(ConfigError, match=message):
        rpc_url_for(network, settings)


def test_local_network_is_the_embedded_chain(settings):
    assert rpc_url_for(None, settings) == rpc_url_for("local", settings) == settings.rpc_url
    assert rpc_url_for("ethereum:local", replace(settings)) == "http://127.0.0.1:8545"  # from ape-config.yaml


def test_a_node_on_another_chain_never_leads_to_that_chains_manifest(foreign_chain):
    """Processes pin the configured chain id: pointed at a node of chain 4242 while configured for the
    dev chain, they refuse it, even with a manifest for 4242 on disk (they would sign for it)."""
    operator = dev_account(5)
    deploy(foreign_chain, environ={"YINQI_DEPLOYER_KEY": "0x" + operator.key.hex().removeprefix("0x")})
    assert Manifest.path_for(foreign_chain, 4242).exists()
    pinned = replace(foreign_chain, chain_id=DEV_CHAIN_ID)
    with pytest.raises(ManifestError, match="node is on chain 4242, but Yinqi is configured for chain 31337"):
        Manifest.for_chain(pinned, connect(foreign_chain.rpc_url))
    assert Manifest.for_chain(foreign_chain, connect(foreign_chain.rpc_url)).chain_id == 4242
