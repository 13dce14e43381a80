"""The bank's financing pool, shared by every product."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from backend.core.chain import send
from backend.core.manifest import Manifest


def deposit(w3: Web3, manifest: Manifest, treasurer: LocalAccount, amount: int) -> TxReceipt:
    """Move `amount` units from the treasurer's wallet into the pool (approving it first if needed)."""
    pool = manifest.contract(w3, "FinancingPool")
    token = manifest.contract(w3, "SettlementToken")
    decoder = manifest.revert_decoder()
    if token.functions.allowance(treasurer.address, pool.address).call() < amount:
        send(w3, treasurer, token.functions.approve(pool.address, amount), decoder=decoder, what="approving the pool")
    return send(w3, treasurer, pool.functions.deposit(amount), decoder=decoder, what="depositing liquidity")


def withdraw(w3: Web3, manifest: Manifest, treasurer: LocalAccount, to: str, amount: int) -> TxReceipt:
    """Move `amount` units of the pool's free liquidity to `to`."""
    pool = manifest.contract(w3, "FinancingPool")
    call = pool.functions.withdraw(to, amount)
    return send(w3, treasurer, call, decoder=manifest.revert_decoder(), what="withdrawing liquidity")


def available(w3: Web3, manifest: Manifest) -> int:
    return manifest.contract(w3, "FinancingPool").functions.available().call()
