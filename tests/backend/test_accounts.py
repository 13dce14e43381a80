import json

import pytest
from eth_account import Account

from backend.core.accounts import load_signer, signer_from_spec
from backend.core.config import DEV_CHAIN_ID
from backend.core.dev_accounts import dev_account
from backend.core.errors import ConfigError

FOREIGN = 4242


def test_dev_signer_only_on_the_dev_chain():
    assert signer_from_spec("dev:3", DEV_CHAIN_ID, environ={}).address == dev_account(3).address
    with pytest.raises(ConfigError, match="only on the local chain"):
        signer_from_spec("dev:3", FOREIGN, environ={})


def test_env_signer_reads_key_or_keystore(tmp_path):
    key = "0x" + dev_account(4).key.hex().removeprefix("0x")
    assert signer_from_spec("env:OPS", FOREIGN, environ={"YINQI_OPS_KEY": key}).address == dev_account(4).address
    path = tmp_path / "ops.json"
    path.write_text(json.dumps(Account.encrypt(dev_account(5).key, "pw", iterations=2)))
    env = {"YINQI_OPS_KEYSTORE": str(path), "YINQI_OPS_PASSWORD": "pw"}
    assert signer_from_spec("env:OPS", FOREIGN, environ=env).address == dev_account(5).address
    with pytest.raises(ConfigError, match="could not be decrypted"):
        signer_from_spec("env:OPS", FOREIGN, environ={**env, "YINQI_OPS_PASSWORD": "wrong"})


def test_keystore_signer_needs_its_password(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps(Account.encrypt(dev_account(6).key, "pw", iterations=2)))
    spec = f"keystore:{path}"
    assert signer_from_spec(spec, FOREIGN, environ={"YINQI_KEYSTORE_PASSWORD": "pw"}).address == dev_account(6).address
    with pytest.raises(ConfigError, match="YINQI_KEYSTORE_PASSWORD is not"):
        signer_from_spec(spec, FOREIGN, environ={})


def test_role_signer_prefers_the_environment_even_on_the_dev_chain():
    key = "0x" + dev_account(7).key.hex().removeprefix("0x")
    assert load_signer("BANK", DEV_CHAIN_ID, environ={"YINQI_BANK_KEY": key}).address == dev_account(7).address
    assert load_signer("BANK", DEV_CHAIN_ID, environ={}).address == dev_account(0).address
    with pytest.raises(ConfigError, match="YINQI_BANK_KEY"):
        load_signer("BANK", FOREIGN, environ={})
