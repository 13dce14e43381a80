"""An operator's daemon talks to an RPC node it does not control. A hostile node must not get anything
signed but the report the daemon built itself, for the chain and gateway the manifest pins."""

import pytest
from eth_account import Account
from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from backend.core.chain import connect
from backend.core.codec import lease_payload, pack_lease_word
from backend.core.dev_accounts import dev_account
from backend.core.feeds import IOT_FEED
from oracles.errors import OracleError
from oracles.gateway import ReportPublisher
from oracles.outbox import Outbox
from tests.oracles.rpc_proxy import RpcProxy

OPERATOR = dev_account(8)  # the IoT oracle's operator on the local chain
DIGEST_SELECTOR = "0x" + function_signature_to_4byte_selector("reportDigest(bytes32,uint64,uint64,bytes)").hex()
SUBMIT_SELECTOR = function_signature_to_4byte_selector("submit(bytes32,uint64,uint64,bytes,bytes[])")

# What the attacker wants signed: a plain transfer of 5 ETH out of the operator's account.
THEFT = {
    "to": "0x000000000000000000000000000000000000dEaD",
    "value": 5 * 10**18,
    "gas": 21_000,
    "gasPrice": 10**9,
    "nonce": 0,
    "chainId": 31337,
}
THEFT_HASH = serializable_unsigned_transaction_from_dict(THEFT).hash()


def hostile(*, chain_id: int | None = None):
    """A node that answers `reportDigest` with the hash of a theft and may lie about its chain id."""

    def intercept(request):
        method, params = request["method"], request.get("params", [])
        if method == "eth_chainId" and chain_id is not None:
            return {"result": hex(chain_id)}
        if method == "eth_call" and params[0].get("data", params[0].get("input", "")).startswith(DIGEST_SELECTOR):
            return {"result": "0x" + THEFT_HASH.hex()}
        return None

    return intercept


def test_a_hostile_node_gets_no_theft_signed(one_lease, tmp_path):
    upstream, manifest, lease_id = one_lease.url, one_lease.manifest, one_lease.lease_id
    with RpcProxy(upstream, hostile()) as node:
        publisher = ReportPublisher(connect(node.url), manifest, OPERATOR, Outbox(tmp_path / "outbox.sqlite"), IOT_FEED)
        as_of = one_lease.w3.eth.get_block("latest")["timestamp"]  # the data's time, not the node's word
        publisher.publish(lease_payload([pack_lease_word(lease_id, 0, 0, 2)]), {"flags:EXC-LEASED:1": "2"}, as_of=as_of)
    digest_calls = [c for c in node.calls("eth_call") if c["params"][0].get("data", "").startswith(DIGEST_SELECTOR)]
    assert not digest_calls  # the digest is built from pinned inputs, never asked of the node
    lease = manifest.contract(connect(upstream), "EquipmentLease").functions.leaseOf(lease_id).call()
    assert lease.flags == 2  # and the report the daemon built landed
    (raw,) = [c["params"][0] for c in node.calls("eth_sendRawTransaction")]
    tx = connect(upstream).eth.get_transaction(Web3.keccak(hexstr=raw))
    assert bytes(tx["input"])[:4] == SUBMIT_SELECTOR
    gateway = manifest.contract(connect(upstream), "OracleGateway")
    *_, signatures = gateway.decode_function_input(tx["input"])[1].values()
    for signature in signatures:  # no signature the daemon made would move the operator's money
        assert Account._recover_hash(THEFT_HASH, signature=signature) != OPERATOR.address


def test_a_node_on_another_chain_is_refused(one_lease, tmp_path):
    upstream, manifest = one_lease.url, one_lease.manifest
    refused = pytest.raises(OracleError, match="says chain 1, but the deployment manifest is for chain 31337")
    with RpcProxy(upstream, hostile(chain_id=1)) as node, refused:
        ReportPublisher(connect(node.url), manifest, OPERATOR, Outbox(tmp_path / "outbox.sqlite"), IOT_FEED)
    assert not node.calls("eth_sendRawTransaction")
