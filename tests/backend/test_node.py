import http.server
import threading

import pytest
from web3 import Web3

from backend.core.chain import connect, rpc_chain_id
from backend.core.config import DEV_CHAIN_ID
from backend.core.dev_accounts import dev_account
from backend.core.errors import ChainAlreadyRunning, ChainError
from backend.local.node import LocalChain


def test_chain_starts_with_funded_dev_accounts_and_stops(settings):
    node = LocalChain(settings)
    node.start()
    try:
        w3 = connect(node.url)
        assert w3.eth.chain_id == DEV_CHAIN_ID
        assert w3.eth.get_balance(dev_account(0).address) > 0
        assert w3.eth.accounts[0] == dev_account(0).address
    finally:
        node.stop()
    assert node.exit_code() is None and node.pid is None
    assert rpc_chain_id(node.url) is None


def test_restart_keeps_the_chain(settings):
    recipient = "0x000000000000000000000000000000000000bEEF"
    with LocalChain(settings) as node:
        w3 = connect(node.url)
        sender = dev_account(0)
        tx = {
            "to": recipient,
            "value": 12345,
            "gas": 21000,
            "nonce": 0,
            "chainId": DEV_CHAIN_ID,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        }
        w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction))
        height = w3.eth.block_number
    assert settings.chain_state_file.exists()
    with LocalChain(settings) as node:
        w3 = connect(node.url)
        assert w3.eth.get_balance(recipient) == 12345
        assert w3.eth.block_number >= height


def test_second_chain_on_same_port_is_refused_as_already_running(settings, local_chain):
    with pytest.raises(ChainAlreadyRunning, match=f"chain {DEV_CHAIN_ID}"):
        LocalChain(settings).start()


class _NotEthereum(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(404)
        self.end_headers()
        self.wfile.write(b"nothing here")

    def log_message(self, *args):
        pass


def test_port_held_by_a_non_evm_service_is_refused(settings):
    server = http.server.HTTPServer(("127.0.0.1", settings.chain_port), _NotEthereum)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ChainError, match="is not an EVM node"):
            LocalChain(settings).start()
    finally:
        server.shutdown()
        server.server_close()


def test_port_held_by_a_raw_tcp_listener_is_refused(settings):
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", settings.chain_port))
        listener.listen()
        threading.Thread(target=lambda: listener.accept()[0].close(), daemon=True).start()
        with pytest.raises(ChainError, match="is not an EVM node"):
            LocalChain(settings).start()


def test_connect_without_node_names_the_fix(settings):
    with pytest.raises(ChainError, match="yinqi chain"):
        connect(settings.rpc_url)


def test_dev_account_zero_is_anvils_first_account():
    assert Web3.is_checksum_address(dev_account(0).address)
    assert dev_account(0).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
