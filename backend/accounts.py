"""Where signing keys come from: the environment or a keystore, and dev accounts on the dev chain.

An operator account is named by a prefix, e.g. ``DEPLOYER`` reads
``YINQI_DEPLOYER_KEY`` (hex private key) or ``YINQI_DEPLOYER_KEYSTORE`` (an encrypted JSON
keystore file) with ``YINQI_DEPLOYER_PASSWORD``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.config import DEV_CHAIN_ID
from backend.dev_accounts import dev_account
from backend.errors import ConfigError


def load_signer(
    role: str, chain_id: int, *, dev_index: int = 0, environ: dict[str, str] | None = None
) -> LocalAccount:
    """The account that signs as ``role`` (``DEPLOYER``, ``BANK``, …) on chain ``chain_id``.

    Order: ``YINQI_<ROLE>_KEY``, then ``YINQI_<ROLE>_KEYSTORE`` + ``YINQI_<ROLE>_PASSWORD``, then,
    on the local dev chain only, dev account ``dev_index``.
    """
    env = os.environ if environ is None else environ
    prefix = f"YINQI_{role.upper()}"
    if key := env.get(f"{prefix}_KEY"):
        try:
            return Account.from_key(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{prefix}_KEY is not a valid private key ({exc})") from None
    if keystore := env.get(f"{prefix}_KEYSTORE"):
        return _from_keystore(Path(keystore), env.get(f"{prefix}_PASSWORD"), prefix)
    if chain_id == DEV_CHAIN_ID:
        return dev_account(dev_index)
    raise ConfigError(
        f"chain {chain_id} is not the local dev chain: set {prefix}_KEY, or {prefix}_KEYSTORE "
        f"and {prefix}_PASSWORD, to sign as {role.lower()}"
    )


def _from_keystore(path: Path, password: str | None, prefix: str) -> LocalAccount:
    if password is None:
        raise ConfigError(f"{prefix}_KEYSTORE is set but {prefix}_PASSWORD is not")
    try:
        encrypted = json.loads(path.read_text())
        return Account.from_key(Account.decrypt(encrypted, password))
    except FileNotFoundError:
        raise ConfigError(f"{prefix}_KEYSTORE: no such file {path}") from None
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"{prefix}_KEYSTORE {path} could not be decrypted ({exc})") from None
