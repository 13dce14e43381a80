"""DEV ONLY: the local node's public development accounts.

anvil (like Hardhat and Ganache) derives its funded accounts from the well-known public mnemonic
below. Anyone can derive these keys, so they are only ever used on the local chain
(``DEV_CHAIN_ID``); :func:`backend.core.accounts.load_signer` refuses them anywhere else. This module is
the one place in the repository that names dev keys; every other key comes from the environment or
a keystore.
"""

from __future__ import annotations

from functools import lru_cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 14

Account.enable_unaudited_hdwallet_features()


@lru_cache(maxsize=DEV_ACCOUNT_COUNT)
def dev_account(index: int) -> LocalAccount:
    """The ``index``-th account anvil funds at start (path m/44'/60'/0'/0/index)."""
    if not 0 <= index < DEV_ACCOUNT_COUNT:
        raise IndexError(f"dev accounts are numbered 0..{DEV_ACCOUNT_COUNT - 1}, not {index}")
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
