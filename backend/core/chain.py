"""Talking to an EVM node: probing, connecting, and sending signed transactions."""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, TransactionNotFound
from web3.types import TxReceipt

from backend.core.errors import ChainError, TransactionFailed

log = logging.getLogger(__name__)

RECEIPT_TIMEOUT = 120.0
GAS_MARGIN_PERCENT = 125  # the gas limit sent, as a share of the node's estimate
MAX_TX_GAS = 2**24  # the most gas one transaction may ask for (EIP-7825)
BLOCKS_PER_REQUEST = 5_000  # blocks one eth_getLogs request spans: below common providers' range limits


def event_logs(events, start: int, end: int, **filters) -> list:
    """Every log of `events` (web3 contract events) from block `start` to `end`, in chain order, read
    :data:`BLOCKS_PER_REQUEST` blocks at a time; `filters` are ``argument_filters``."""
    found = []
    for first in range(start, end + 1, BLOCKS_PER_REQUEST):
        last = min(first + BLOCKS_PER_REQUEST - 1, end)
        found += [e for event in events for e in event.get_logs(from_block=first, to_block=last, **filters)]
    return sorted(found, key=lambda e: (e["blockNumber"], e["logIndex"]))


def rpc_chain_id(url: str, timeout: float = 2.0) -> int | None:
    """The chain id an EVM node at ``url`` reports, or None if nothing listens there.

    Raises :class:`ChainError` if something listens but does not speak Ethereum JSON-RPC.
    """
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(json.loads(response.read())["result"], 16)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return None
        raise ChainError(f"{url} answers but is not an EVM node ({exc.reason})") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if _listening(url):
            raise ChainError(f"{url} answers but is not an EVM node ({type(exc).__name__})") from None
        return None


def _listening(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 80), timeout=1.0):
            return True
    except OSError:
        return False


def connect(url: str, timeout: float = 10.0) -> Web3:
    """A Web3 connected to the EVM node at ``url``; :class:`ChainError` if none answers."""
    if rpc_chain_id(url) is None:
        raise ChainError(f"no EVM node answers at {url}: start one with `yinqi chain`")
    # the chain id is asked once, not before every call and estimate (web3's validation asks it each time)
    provider = Web3.HTTPProvider(
        url, request_kwargs={"timeout": timeout}, cache_allowed_requests=True, cacheable_requests={"eth_chainId"}
    )
    return Web3(provider)


class RevertDecoder:
    """Turns revert data into ``ErrorName(arg, …)`` using the custom errors of the given ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") == "error":
                    types = [_abi_type(i) for i in item["inputs"]]
                    selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                    self._errors[selector] = (item["name"], types)

    def decode(self, data: str | bytes | None) -> str:
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data
        if not raw or len(raw) < 4:
            return "reverted without a reason"
        name, types = self._errors.get(raw[:4], (None, []))
        if name is None:
            return f"reverted with unknown error 0x{raw[:4].hex()}"
        args = abi_decode(types, raw[4:])
        return f"{name}({', '.join(_show(a) for a in args)})"


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def call(fn: Any, *, decoder: RevertDecoder | None = None, what: str = "call") -> Any:
    """Run a read-only contract call; a revert becomes :class:`TransactionFailed` naming the error."""
    try:
        return fn.call()
    except ContractCustomError as exc:
        reason = decoder.decode(exc.data) if decoder else str(exc.data)
        raise TransactionFailed(f"{what} reverted: {reason}") from None
    except ContractLogicError as exc:
        raise TransactionFailed(f"{what} reverted: {exc.message or exc}") from None


def call_named(fn: Any, **kwargs: Any) -> SimpleNamespace:
    """A call whose outputs are read by name: ``call_named(gateway.functions.feeds(feed)).quorum``.
    For functions returning several values (a public struct getter); a struct output is already a
    named tuple on a :meth:`Manifest.contract`."""
    values = fn.call(**kwargs)
    names = [output["name"] for output in fn.abi["outputs"]]
    if len(names) == 1:
        values = (values,)
    if not all(names) or len(set(names)) != len(names):
        raise ValueError(f"{fn.fn_name} has unnamed or repeated outputs: {names}")
    return SimpleNamespace(**dict(zip(names, values, strict=True)))


def events_in(receipt: TxReceipt, contract: Any, name: str) -> list[Any]:
    """The `name` events `contract` emitted in `receipt`, decoded; the receipt's other logs (another
    contract's, another event's) are left alone, not decoded against the wrong ABI."""
    event = getattr(contract.events, name)()
    topic = bytes.fromhex(event.topic.removeprefix("0x"))
    return [
        event.process_log(log)
        for log in receipt["logs"]
        if log["address"] == contract.address and log["topics"] and bytes(log["topics"][0]) == topic
    ]


def wait_for_receipt(w3: Web3, tx_hash: bytes, timeout: float = RECEIPT_TIMEOUT) -> TxReceipt:
    """The transaction's receipt once it is mined, asked for at once and then at doubling intervals
    (5 ms up to 1 s): a node that mines on arrival answers the first ask, a 12-second chain is asked
    about once a second. :class:`TimeExhausted` after `timeout` seconds."""
    deadline, delay = time.monotonic() + timeout, 0.005
    while True:
        try:
            return w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            pass
        if (left := deadline - time.monotonic()) <= 0:
            raise TimeExhausted(f"transaction {Web3.to_hex(tx_hash)} not mined within {timeout:.0f} s")
        time.sleep(min(delay, left))
        delay = min(2 * delay, 1.0)


def send(
    w3: Web3,
    signer: LocalAccount,
    call: Any,
    *,
    decoder: RevertDecoder | None = None,
    what: str = "transaction",
    chain_id: int | None = None,
) -> TxReceipt:
    """Sign ``call`` (a contract function or constructor call) with ``signer``, send it and wait.
    ``chain_id`` pins the chain the transaction is signed for (else the node's answer is used).

    Raises :class:`TransactionFailed` naming the decoded custom error if it would revert or did.
    """
    params: dict[str, Any] = {"from": signer.address, "nonce": w3.eth.get_transaction_count(signer.address, "pending")}
    if chain_id is not None:
        params["chainId"] = chain_id
    try:
        tx = call.build_transaction(params)
    except ContractCustomError as exc:
        reason = decoder.decode(exc.data) if decoder else str(exc.data)
        raise TransactionFailed(f"{what} would revert: {reason}") from None
    except ContractLogicError as exc:
        raise TransactionFailed(f"{what} would revert: {exc.message or exc}") from None
    # the node estimates against the latest block; a second later the same call may cost more (a slot
    # that held this block's timestamp now changes), so the limit leaves a margin (unused gas is not
    # paid), within the per-transaction cap nodes enforce (EIP-7825) unless the estimate is above it
    tx["gas"] = min(tx["gas"] * GAS_MARGIN_PERCENT // 100, max(tx["gas"], MAX_TX_GAS))
    signed = signer.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    try:
        receipt = wait_for_receipt(w3, tx_hash)
    except TimeExhausted:
        raise TransactionFailed(f"{what} {tx_hash.hex()} not mined within {RECEIPT_TIMEOUT:.0f}s") from None
    if receipt["status"] != 1:
        raise TransactionFailed(f"{what} {tx_hash.hex()} reverted in block {receipt['blockNumber']}")
    log.debug("%s mined in block %s (gas %s)", what, receipt["blockNumber"], receipt["gasUsed"])
    return receipt
