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

from backend.core.config import DEV_CHAIN_ID
from backend.core.dev_accounts import dev_account
from backend.core.errors import ConfigError


def load_signer(role: str, chain_id: int, *, dev_index: int = 0, environ: dict[str, str] | None = None) -> LocalAccount:
    """The account that signs as ``role`` (``DEPLOYER``, ``BANK``, …) on chain ``chain_id``.

    Order: ``YINQI_<ROLE>_KEY``, then ``YINQI_<ROLE>_KEYSTORE`` + ``YINQI_<ROLE>_PASSWORD``, then,
    on the local dev chain only, dev account ``dev_index``.
    """
    env = os.environ if environ is None else environ
    prefix = f"YINQI_{role.upper()}"
    if env.get(f"{prefix}_KEY") or env.get(f"{prefix}_KEYSTORE"):
        return _from_environment(role, env, chain_id)
    if chain_id == DEV_CHAIN_ID:
        return dev_account(dev_index)
    raise ConfigError(
        f"chain {chain_id} is not the local dev chain: set {prefix}_KEY, or {prefix}_KEYSTORE "
        f"and {prefix}_PASSWORD, to sign as {role.lower()}"
    )


def signer_from_spec(spec: str, chain_id: int, *, environ: dict[str, str] | None = None) -> LocalAccount:
    """The signer an operator names on the command line.

    ``dev:N`` — local dev account N (dev chain only); ``env:NAME`` — ``YINQI_NAME_KEY`` or
    ``YINQI_NAME_KEYSTORE`` + ``YINQI_NAME_PASSWORD``; ``keystore:PATH`` — an encrypted keystore
    whose password is in ``YINQI_KEYSTORE_PASSWORD``.
    """
    env = os.environ if environ is None else environ
    kind, _, value = spec.partition(":")
    if kind == "dev":
        if chain_id != DEV_CHAIN_ID:
            raise ConfigError(f"dev accounts sign only on the local chain {DEV_CHAIN_ID}, not on chain {chain_id}")
        try:
            return dev_account(int(value))
        except (ValueError, IndexError):
            raise ConfigError(f"no dev account {value!r}: use dev:0 … dev:9") from None
    if kind == "env" and value:
        return _from_environment(value, env, chain_id)
    if kind == "keystore" and value:
        return _from_keystore(Path(value), env.get("YINQI_KEYSTORE_PASSWORD"), "YINQI_KEYSTORE")
    raise ConfigError(f"signer {spec!r} is not dev:N, env:NAME or keystore:PATH")


def _from_environment(role: str, env, chain_id: int) -> LocalAccount:
    prefix = f"YINQI_{role.upper()}"
    if key := env.get(f"{prefix}_KEY"):
        try:
            return Account.from_key(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{prefix}_KEY is not a valid private key ({exc})") from None
    if keystore := env.get(f"{prefix}_KEYSTORE"):
        return _from_keystore(Path(keystore), env.get(f"{prefix}_PASSWORD"), prefix)
    raise ConfigError(
        f"set {prefix}_KEY, or {prefix}_KEYSTORE and {prefix}_PASSWORD, to sign as {role.lower()} on chain {chain_id}"
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
