"""The credit oracle daemon against a real anvil: crash at any step, restart, every change on chain
exactly once; only consenting merchants; nothing pushed twice; a key without the role refused."""

import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from eth_account import Account
from web3 import Web3

from backend.core.chain import connect
from backend.core.codec import split_words, unpack_credit_word
from backend.core.feeds import CREDIT_FEED
from backend.core.manifest import Manifest
from backend.core.money import UNIT
from backend.index.audit import decoded_logs
from backend.services.deploy import deploy
from oracles.credit import train
from oracles.credit.consent import Consent, sign, to_document
from oracles.credit.synthetic import generate
from oracles.failpoints import CRASH_EXIT

YINQI = str(Path(sys.executable).with_name("yinqi"))
MERCHANTS, CONSENTING, BATCH = 60, 50, 20


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("credit-model")
    path = out / "train.csv"
    generate(2_000, 12, seed=1).to_csv(path, index=False)
    train.save(train.train(train.load(path, "default_flag"), progress=False), out / "model")
    return out / "model"


class World(NamedTuple):
    """A chain, merchants' data and consents (the last one forged), and the oracle's command line."""

    w3: Web3
    manifest: Manifest
    wallets: dict[str, str]  # merchant id → wallet address
    args: list[str]
    env: dict[str, str]


@pytest.fixture
def world(settings, local_chain, model_dir, tmp_path, env_for):
    manifest = deploy(settings, environ={}).manifest
    w3 = connect(local_chain.url)
    data, consents = tmp_path / "data", tmp_path / "consents"
    data.mkdir(), consents.mkdir()
    generate(MERCHANTS, 12, seed=5).to_csv(data / "merchants.csv", index=False)
    now = w3.eth.get_block("latest")["timestamp"]
    wallets = {}
    for i in range(CONSENTING + 1):
        merchant_id = f"M{i:06d}"
        wallet = Account.from_key(Web3.keccak(text=f"merchant wallet {i}"))
        consent = Consent(
            merchant=wallet.address, merchant_id=merchant_id, expires_at=now + 30 * 86_400, nonce=1, chain_id=31337
        )
        signer = wallet if i < CONSENTING else Account.from_key(Web3.keccak(text="someone else"))  # the last is forged
        (consents / f"{merchant_id}.json").write_text(json.dumps(to_document(consent, sign(consent, signer))))
        wallets[merchant_id] = wallet.address
    args = [
        "credit-oracle",
        "run",
        "--data",
        str(data),
        "--consents",
        str(consents),
        "--model",
        str(model_dir),
        "--state",
        str(tmp_path / "outbox.sqlite"),
        "--batch-size",
        str(BATCH),
        "--once",
    ]
    return World(w3, manifest, wallets, args, env_for(settings))


def run(args, env, **extra):
    return subprocess.run([YINQI, *args], env={**env, **extra}, capture_output=True, text=True, timeout=300)


def cycle_of(result):
    return json.loads(result.stdout.strip().splitlines()[-1])["cycle"]


def pushed_words(w3, manifest):
    """Every merchant update ever applied, from the CreditLine's events."""
    words = []
    for event in decoded_logs(w3, manifest, "CreditLine"):
        if event["event"] == "ScoresApplied":
            words += split_words(event["args"]["updates"])
    return words


@pytest.mark.parametrize("crash_at", ["publish.after_enqueue:2", "publish.after_send:2"])
def test_crash_and_restart_put_every_change_on_chain_exactly_once(world, crash_at):
    crashed = run(world.args, world.env, YINQI_FAILPOINT=crash_at)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr
    gateway = world.manifest.contract(world.w3, "OracleGateway")
    landed = gateway.functions.feeds(CREDIT_FEED).call().lastSequence
    assert landed == (1 if crash_at.startswith("publish.after_enqueue") else 2)

    resumed = run(world.args, world.env)
    assert resumed.returncode == 0, resumed.stderr
    words = pushed_words(world.w3, world.manifest)
    updates = [unpack_credit_word(w) for w in words]
    merchants = [u.merchant for u in updates]
    assert len(merchants) == len(set(merchants)) == CONSENTING  # each once, none twice
    assert set(merchants) == {
        world.wallets[f"M{i:06d}"] for i in range(CONSENTING)
    }  # the forged consent is not among them
    credit_line = world.manifest.contract(world.w3, "CreditLine")
    for update in updates:
        line = credit_line.functions.lineOf(update.merchant).call()
        assert (line.score, line.rateBps) == (update.score, update.rate_bps)
        assert update.limit_whole * UNIT in (line.limit, line.pendingLimit)  # set, or held for the bank

    again = run(world.args, world.env)
    assert again.returncode == 0
    assert cycle_of(again)["changed"] == 0 and cycle_of(again)["reports"] == 0
    assert cycle_of(again)["refused_consents"] == 1
    assert len(pushed_words(world.w3, world.manifest)) == CONSENTING


def test_key_without_the_operator_role_is_refused(world):
    result = run([*world.args, "--signer", "dev:3"], world.env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is not an oracle operator" in result.stderr.strip().splitlines()[-1]


def test_daemon_cycles_until_sigterm_and_stops_cleanly(world):
    import signal

    daemon_args = [a for a in world.args if a != "--once"] + ["--interval", "0.5"]
    proc = subprocess.Popen(
        [YINQI, *daemon_args], env=world.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first = json.loads(proc.stdout.readline())["cycle"]
        second = json.loads(proc.stdout.readline())["cycle"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert first["changed"] == CONSENTING and second["changed"] == 0  # the second cycle finds nothing new
    assert len(pushed_words(world.w3, world.manifest)) == CONSENTING


def test_merchant_data_from_sqlite(world, tmp_path):
    import sqlite3

    import pandas as pd

    database = tmp_path / "merchants.sqlite"
    data_dir = Path(world.args[world.args.index("--data") + 1])
    with sqlite3.connect(database) as db:
        pd.read_csv(data_dir / "merchants.csv").to_sql("merchant_months", db, index=False)
    sqlite_args = list(world.args)
    sqlite_args[sqlite_args.index("--data") + 1] = str(database)
    result = run(sqlite_args, world.env)
    assert result.returncode == 0, result.stderr
    assert cycle_of(result)["changed"] == CONSENTING
    bad = tmp_path / "empty.sqlite"
    sqlite3.connect(bad).close()
    sqlite_args[sqlite_args.index("--data") + 1] = str(bad)
    failed = run(sqlite_args, world.env)
    assert failed.returncode == 1 and "cannot read table merchant_months" in failed.stderr.strip().splitlines()[-1]


def test_poisoned_consent_files_are_refused_alone_and_counted_by_reason(world):
    """Among the good consents: a negative nonce, an expiry past uint64, JSON nested 5,000 deep and a
    10 MB file. Each is refused for its own merchant, counted by reason; every other merchant is scored."""
    consents = Path(world.args[world.args.index("--consents") + 1])
    good = json.loads((consents / "M000000.json").read_text())
    (consents / "M000051.json").write_text(json.dumps({**good, "merchantId": "M000051", "nonce": -1}))
    (consents / "M000052.json").write_text(json.dumps({**good, "merchantId": "M000052", "expiresAt": 10**80}))
    (consents / "M000053.json").write_text('{"merchantId": "M000053", "x": ' + "[" * 5_000 + "]" * 5_000 + "}")
    (consents / "M000054.json").write_text(json.dumps({**good, "merchantId": "M000054", "pad": "x" * 10_000_000}))
    result = run(world.args, world.env)
    assert result.returncode == 0, result.stderr[-3000:]
    cycle = cycle_of(result)
    assert cycle["changed"] == CONSENTING
    assert cycle["refused_consents"] == 5
    assert cycle["refused_by_reason"] == {"wrong_signer": 1, "out_of_range": 2, "too_deep": 1, "oversized": 1}
    merchants = {unpack_credit_word(w).merchant for w in pushed_words(world.w3, world.manifest)}
    assert merchants == {world.wallets[f"M{i:06d}"] for i in range(CONSENTING)}
    refusals = [line for line in result.stderr.splitlines() if "refused" in line]
    assert len(refusals) == 5 and "Traceback" not in result.stderr  # one line each


def test_a_failing_cycle_is_logged_counted_and_the_daemon_keeps_serving(world, tmp_path):
    import signal
    import sqlite3

    import pandas as pd

    database = tmp_path / "merchants.sqlite"
    sqlite3.connect(database).close()  # no table yet: every cycle fails until there is one
    args = [a for a in world.args if a != "--once"] + ["--interval", "0.3"]
    data_dir = Path(args[args.index("--data") + 1])
    args[args.index("--data") + 1] = str(database)
    proc = subprocess.Popen([YINQI, *args], env=world.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        failures = [json.loads(proc.stdout.readline()) for _ in range(2)]
        with sqlite3.connect(database) as db:
            pd.read_csv(data_dir / "merchants.csv").to_sql("merchant_months", db, index=False)
        line = json.loads(proc.stdout.readline())
        while "cycle" not in line:  # a cycle may have failed while the table was written
            line = json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert [f["failed_cycles"] for f in failures] == [1, 2]
    assert "cannot read table merchant_months" in failures[0]["cycle_failed"]
    assert err.count("Traceback") >= 2 and "cycle failed (2 failed cycle(s) so far)" in err
    assert line["cycle"]["changed"] == CONSENTING
    assert len(pushed_words(world.w3, world.manifest)) == CONSENTING


def test_a_contested_merchant_id_or_wallet_is_refused_for_every_claimant(world):
    """One wallet signs a second consent naming another merchant's id: no file wins by its name, both
    merchants' claims and the wallet's are refused, every other merchant is scored and nothing reverts."""
    consents = Path(world.args[world.args.index("--consents") + 1])
    squatter = Account.from_key(Web3.keccak(text="merchant wallet 1"))  # M000001's wallet
    now = world.w3.eth.get_block("latest")["timestamp"]
    claim = Consent(merchant=squatter.address, merchant_id="M000002", expires_at=now + 86_400, nonce=1, chain_id=31337)
    (consents / "zz-claim.json").write_text(json.dumps(to_document(claim, sign(claim, squatter))))
    result = run(world.args, world.env)
    assert result.returncode == 0, result.stderr[-3000:]
    cycle = cycle_of(result)
    assert cycle["refused_by_reason"] == {"wrong_signer": 1, "contested": 3}
    assert cycle["changed"] == CONSENTING - 2
    merchants = {unpack_credit_word(w).merchant for w in pushed_words(world.w3, world.manifest)}
    assert world.wallets["M000001"] not in merchants and world.wallets["M000002"] not in merchants
    assert len(merchants) == CONSENTING - 2


def test_decisions_above_the_banks_bounds_are_capped_not_sent_to_revert(world):
    """The bank tightens its bounds below what the policy gives: the oracle caps each word at the
    bounds on chain, counts it, and every consenting merchant's line still lands."""
    from backend.core.chain import send
    from backend.demo.seeding import BANK

    line = world.manifest.contract(world.w3, "CreditLine")
    f = line.functions
    max_limit, max_rate = 1_000 * UNIT, 500
    bounds = (max_limit, f.maxScoreAge().call(), f.maxLimitStep().call(), f.defaultAfterFrozen().call(), max_rate)
    send(world.w3, BANK, f.setBounds(*bounds), decoder=world.manifest.revert_decoder())
    result = run(world.args, world.env)
    assert result.returncode == 0, result.stderr[-3000:]
    cycle = cycle_of(result)
    assert cycle["changed"] == CONSENTING and cycle["capped"] > 0
    for wallet in (world.wallets[f"M{i:06d}"] for i in range(CONSENTING)):
        terms = f.lineOf(wallet).call()
        assert terms.limit + terms.pendingLimit <= max_limit and terms.rateBps <= max_rate


def test_an_unchanged_line_is_re_sent_before_its_score_goes_stale(world):
    """Deviation + heartbeat: a merchant whose score does not change still never meets a stale line."""
    first = run(world.args, world.env)
    assert first.returncode == 0, first.stderr[-3000:]
    line = world.manifest.contract(world.w3, "CreditLine").functions
    max_age, wallet = line.maxScoreAge().call(), world.wallets["M000000"]
    scored_at = line.lineOf(wallet).call().scoredAt
    world.w3.provider.make_request("evm_increaseTime", [max_age // 2 - 3600])  # not due yet
    world.w3.provider.make_request("evm_mine", [])
    quiet = cycle_of(run(world.args, world.env))
    assert (quiet["changed"], quiet["heartbeats"], quiet["reports"]) == (0, 0, 0)
    world.w3.provider.make_request("evm_increaseTime", [7200])  # now half the maximum age has passed
    world.w3.provider.make_request("evm_mine", [])
    beat = cycle_of(run(world.args, world.env))
    assert beat["changed"] == beat["heartbeats"] == CONSENTING and beat["reports"] > 0
    refreshed = line.lineOf(wallet).call().scoredAt
    assert refreshed > scored_at + max_age // 2
    world.w3.provider.make_request("evm_increaseTime", [max_age // 2 + 3600])  # past the first score's age
    world.w3.provider.make_request("evm_mine", [])
    now = world.w3.eth.get_block("latest")["timestamp"]
    assert now > scored_at + max_age and now <= refreshed + max_age  # the line is still fresh for a draw
