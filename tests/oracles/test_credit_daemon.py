"""The credit oracle daemon against a real anvil: crash at any step, restart, every change on chain
exactly once; only consenting merchants; nothing pushed twice; a key without the role refused."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from eth_account import Account
from web3 import Web3

from backend.core.chain import connect
from backend.core.codec import credit_payload, pack_credit_word, split_words, unpack_credit_word
from backend.core.dev_accounts import dev_account
from backend.core.feeds import CREDIT_FEED
from backend.core.manifest import Manifest
from backend.core.money import UNIT
from backend.index.audit import decoded_logs
from backend.services.deploy import deploy
from oracles.credit.consent import Consent, sign, to_document
from oracles.credit.synthetic import generate
from oracles.failpoints import CRASH_EXIT
from oracles.gateway import ReportPublisher
from oracles.outbox import Outbox
from tests.conftest import free_port
from tests.oracles.conftest import onboard_merchants, scrape

YINQI = str(Path(sys.executable).with_name("yinqi"))
MERCHANTS, CONSENTING, BATCH = 60, 50, 20


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
        consent = consent_of(manifest, wallet.address, merchant_id, now + 30 * 86_400)
        signer = wallet if i < CONSENTING else Account.from_key(Web3.keccak(text="someone else"))  # the last is forged
        (consents / f"{merchant_id}.json").write_text(json.dumps(to_document(consent, sign(consent, signer))))
        wallets[merchant_id] = wallet.address
    onboard_merchants(w3, manifest, wallets)
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


def consent_of(manifest, wallet, merchant_id, expires_at, nonce=0):
    return Consent(
        merchant=wallet,
        merchant_id=merchant_id,
        expires_at=expires_at,
        nonce=nonce,
        chain_id=manifest.chain_id,
        credit_line=manifest.record("CreditLine").address,
    )


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
    args = [a for a in world.args if a != "--once"] + ["--interval", "0.3", "--metrics-port", str(port := free_port())]
    data_dir = Path(args[args.index("--data") + 1])
    args[args.index("--data") + 1] = str(database)
    proc = subprocess.Popen([YINQI, *args], env=world.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        failures = [json.loads(proc.stdout.readline()) for _ in range(2)]
        failing = scrape(port)
        with sqlite3.connect(database) as db:
            pd.read_csv(data_dir / "merchants.csv").to_sql("merchant_months", db, index=False)
        line = json.loads(proc.stdout.readline())
        while "cycle" not in line:  # a cycle may have failed while the table was written
            line = json.loads(proc.stdout.readline())
        serving = scrape(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert [f["failed_cycles"] for f in failures] == [1, 2]
    assert "cannot read table merchant_months" in failures[0]["cycle_failed"]
    assert err.count("Traceback") >= 2 and "cycle failed (2 failed cycle(s) so far)" in err
    assert line["cycle"]["changed"] == CONSENTING
    assert len(pushed_words(world.w3, world.manifest)) == CONSENTING
    # what the operator's Prometheus saw: the failures, then the reports and the forged consent
    assert failing['yinqi_credit_oracle_loop_errors_total{loop="cycle"}'] >= 2
    assert "yinqi_credit_oracle_data_lag_seconds" in failing
    reports = -(-CONSENTING // BATCH)
    assert serving["yinqi_credit_oracle_reports_confirmed_total"] == reports
    assert serving["yinqi_credit_oracle_reports_sent_total"] == reports
    assert serving["yinqi_credit_oracle_outbox_pending_reports"] == 0
    assert serving['yinqi_credit_oracle_inputs_rejected_total{reason="wrong_signer"}'] >= 1
    assert 0 <= serving["yinqi_credit_oracle_data_lag_seconds"] < 3600


def test_a_wallet_naming_another_merchants_id_gets_nothing_and_the_merchant_keeps_its_line(world):
    """M000001's wallet signs a consent naming M000002's id (a file that sorts after the real one): the
    bank bound that id to another wallet, so the claim is refused and both merchants are scored as
    themselves; the squatter never receives M000002's limit or reasons."""
    consents = Path(world.args[world.args.index("--consents") + 1])
    squatter = Account.from_key(Web3.keccak(text="merchant wallet 1"))  # M000001's wallet
    now = world.w3.eth.get_block("latest")["timestamp"]
    claim = consent_of(world.manifest, squatter.address, "M000002", now + 86_400)
    (consents / "zz-claim.json").write_text(json.dumps(to_document(claim, sign(claim, squatter))))
    stranger = Account.from_key(Web3.keccak(text="never onboarded"))  # a wallet the bank never bound at all
    unbound = consent_of(world.manifest, stranger.address, "M000055", now + 86_400)
    (consents / "zz-stranger.json").write_text(json.dumps(to_document(unbound, sign(unbound, stranger))))
    result = run(world.args, world.env)
    assert result.returncode == 0, result.stderr[-3000:]
    cycle = cycle_of(result)
    assert cycle["refused_by_reason"] == {"wrong_signer": 1, "not_bound": 2}
    assert cycle["changed"] == CONSENTING
    words = {unpack_credit_word(w).merchant: w for w in pushed_words(world.w3, world.manifest)}
    assert set(words) == {world.wallets[f"M{i:06d}"] for i in range(CONSENTING)}
    reasons = json.loads((Path(world.env["YINQI_HOME"]) / "credit" / "reasons.json").read_text())
    assert reasons[squatter.address.lower()]["merchant_id"] == "M000001"
    assert reasons[world.wallets["M000002"].lower()]["merchant_id"] == "M000002"


def test_a_revoked_consent_cuts_the_line_to_zero_on_the_next_cycle(world):
    """The merchant revokes on chain: its consent (nonce 0) is void; the next cycle cuts its limit to
    0 (the policy's default), keeps its rate for what is drawn, and scores no one else differently."""
    from backend.core.chain import send

    first = run(world.args, world.env)
    assert first.returncode == 0, first.stderr[-3000:]
    line = world.manifest.contract(world.w3, "CreditLine")
    merchant = Account.from_key(Web3.keccak(text="merchant wallet 4"))
    before = line.functions.lineOf(merchant.address).call()
    assert before.limit + before.pendingLimit > 0
    world.w3.provider.make_request("anvil_setBalance", [merchant.address, hex(10**18)])
    send(world.w3, merchant, line.functions.revokeConsent(), decoder=world.manifest.revert_decoder())
    assert line.functions.consentNonce(merchant.address).call() == 1
    cycle = cycle_of(run(world.args, world.env))
    assert cycle["refused_by_reason"] == {"wrong_signer": 1, "revoked": 1}
    assert (cycle["lapsed"], cycle["changed"]) == (1, 1)
    after = line.functions.lineOf(merchant.address).call()
    assert (after.limit, after.pendingLimit, after.rateBps, after.score) == (0, 0, before.rateBps, before.score)
    assert after.scoredAt == before.scoredAt  # as of the data the line was scored on: a re-consent can use it
    quiet = cycle_of(run(world.args, world.env))  # honoured once: nothing more to send
    assert (quiet["lapsed"], quiet["changed"], quiet["reports"]) == (0, 0, 0)
    # a new consent with the new nonce brings the merchant back, scored from the same export
    consents = Path(world.args[world.args.index("--consents") + 1])
    now = world.w3.eth.get_block("latest")["timestamp"]
    renewed = consent_of(world.manifest, merchant.address, "M000004", now + 86_400, nonce=1)
    (consents / "M000004.json").write_text(json.dumps(to_document(renewed, sign(renewed, merchant))))
    back = cycle_of(run(world.args, world.env))
    again = line.functions.lineOf(merchant.address).call()
    assert back["changed"] == 1 and again.limit + again.pendingLimit == before.limit + before.pendingLimit


def test_a_missing_consent_file_is_not_a_revocation(world):
    """The consents directory is empty for a cycle (a share not mounted yet): nobody is scored and
    nobody is cut; once the files are back every line stands as it was, with nothing to send."""
    assert run(world.args, world.env).returncode == 0
    consents = Path(world.args[world.args.index("--consents") + 1])
    hidden = consents.with_name("hidden")
    consents.rename(hidden)
    consents.mkdir()
    line = world.manifest.contract(world.w3, "CreditLine").functions
    lines = {w: line.lineOf(w).call() for w in world.wallets.values()}
    empty = run(world.args, world.env)
    cycle = cycle_of(empty)
    assert (cycle["lapsed"], cycle["changed"], cycle["unavailable"]) == (0, 0, CONSENTING)
    assert "no consent files" in empty.stderr
    consents.rmdir()
    hidden.rename(consents)
    (consents / "M000003-copy.json").write_text((consents / "M000003.json").read_text())  # a copy is one consent
    back = cycle_of(run(world.args, world.env))
    assert (back["lapsed"], back["changed"], back["unavailable"], back["refused_by_reason"]) == (
        0,
        0,
        0,
        {"wrong_signer": 1},
    )
    assert {w: line.lineOf(w).call() for w in world.wallets.values()} == lines


def test_a_revocation_is_honoured_even_when_the_oracles_state_is_lost(world):
    """The chain is the record: with a fresh state file the revocation is still found and the line —
    its held raise included — is cut."""
    from backend.core.chain import send

    assert run(world.args, world.env).returncode == 0
    line = world.manifest.contract(world.w3, "CreditLine")
    merchant = Account.from_key(Web3.keccak(text="merchant wallet 4"))
    world.w3.provider.make_request("anvil_setBalance", [merchant.address, hex(10**18)])
    send(world.w3, merchant, line.functions.revokeConsent(), decoder=world.manifest.revert_decoder())
    state = Path(world.args[world.args.index("--state") + 1])
    args = list(world.args)
    args[args.index("--state") + 1] = str(state.with_name("new-state.sqlite"))
    cycle = cycle_of(run(args, world.env))
    assert cycle["lapsed"] == 1
    after = line.functions.lineOf(merchant.address).call()
    assert (after.limit, after.pendingLimit) == (0, 0)


def test_a_line_the_credit_line_refuses_is_left_out_alone(world):
    """The bank lowers its maximum rate below a merchant's last rate and the merchant revokes: the cut
    keeps the rate within the bound; and a line the CreditLine still refuses (here: one older than its
    score) is left out alone while every other line lands."""
    from backend.core.chain import send
    from backend.demo.seeding import BANK

    assert run(world.args, world.env).returncode == 0
    credit = world.manifest.contract(world.w3, "CreditLine")
    f = credit.functions
    merchant = Account.from_key(Web3.keccak(text="merchant wallet 4"))
    rate = f.lineOf(merchant.address).call().rateBps
    bounds = (f.maxLimit().call(), f.maxScoreAge().call(), f.maxLimitStep().call(), f.defaultAfterFrozen().call())
    send(world.w3, BANK, f.setBounds(*bounds, rate - 1), decoder=world.manifest.revert_decoder())
    world.w3.provider.make_request("anvil_setBalance", [merchant.address, hex(10**18)])
    send(world.w3, merchant, f.revokeConsent(), decoder=world.manifest.revert_decoder())
    cycle = cycle_of(run(world.args, world.env))
    assert (cycle["lapsed"], cycle["refused_lines"]) == (1, 0)
    assert f.lineOf(merchant.address).call().rateBps == rate - 1
    # another instance (its own state file) moved M000007's score ahead of this data: that line alone is refused
    other = world.wallets["M000007"]
    terms = f.lineOf(other).call()
    world.w3.provider.make_request("evm_increaseTime", [60])  # a fresher export must be newer than every score
    world.w3.provider.make_request("evm_mine", [])
    later = world.w3.eth.get_block("latest")["timestamp"]
    word = pack_credit_word(other, terms.limit // UNIT // 2, terms.score, min(terms.rateBps, rate - 1))
    state = Path(world.args[world.args.index("--state") + 1])
    elsewhere = ReportPublisher(
        world.w3, world.manifest, dev_account(7), Outbox(state.with_name("b.sqlite")), CREDIT_FEED
    )
    elsewhere.publish(credit_payload(b"\x01" * 32, b"\x02" * 32, [word]), {other: hex(word)}, as_of=later)
    for data in Path(world.args[world.args.index("--data") + 1]).glob("*.csv"):
        os.utime(data, (later - 10, later - 10))  # a fresh export, but older than that report
    args = list(world.args)
    args[args.index("--state") + 1] = str(state.with_name("c.sqlite"))  # a state lost: every line is sent again
    cycle = cycle_of(run(args, world.env))
    assert cycle["refused_lines"] == 1 and cycle["reports"] >= 2
    assert f.lineOf(other).call().scoredAt == later


def test_under_a_freeze_policy_a_revoked_line_is_left_to_go_stale(world, tmp_path):
    from backend.core.chain import send
    from oracles.credit.policy import DEFAULT_POLICY

    policy = tmp_path / "policy.toml"
    policy.write_text(DEFAULT_POLICY.read_text().replace('on_revoke = "zero"', 'on_revoke = "freeze"'))
    args = [*world.args, "--policy", str(policy)]
    assert run(args, world.env).returncode == 0
    line = world.manifest.contract(world.w3, "CreditLine")
    merchant = Account.from_key(Web3.keccak(text="merchant wallet 4"))
    before = line.functions.lineOf(merchant.address).call()
    world.w3.provider.make_request("anvil_setBalance", [merchant.address, hex(10**18)])
    send(world.w3, merchant, line.functions.revokeConsent(), decoder=world.manifest.revert_decoder())
    cycle = cycle_of(run(args, world.env))
    assert (cycle["lapsed"], cycle["changed"]) == (1, 0)
    assert line.functions.lineOf(merchant.address).call() == before  # never scored again


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
    """Deviation + heartbeat: a merchant whose score does not change, with its data exported afresh,
    still never meets a stale line."""
    first = run(world.args, world.env)
    assert first.returncode == 0, first.stderr[-3000:]
    line = world.manifest.contract(world.w3, "CreditLine").functions
    max_age, wallet = line.maxScoreAge().call(), world.wallets["M000000"]
    scored_at = line.lineOf(wallet).call().scoredAt
    world.w3.provider.make_request("evm_increaseTime", [max_age // 2 - 3600])  # not due yet
    world.w3.provider.make_request("evm_mine", [])
    export_at(world, chain_now(world))  # the same data, exported again
    quiet = cycle_of(run(world.args, world.env))
    assert (quiet["changed"], quiet["heartbeats"], quiet["reports"]) == (0, 0, 0)
    world.w3.provider.make_request("evm_increaseTime", [7200])  # now half the maximum age has passed
    world.w3.provider.make_request("evm_mine", [])
    export_at(world, chain_now(world))
    beat = cycle_of(run(world.args, world.env))
    assert beat["changed"] == beat["heartbeats"] == CONSENTING and beat["reports"] > 0
    refreshed = line.lineOf(wallet).call().scoredAt
    assert refreshed > scored_at + max_age // 2
    world.w3.provider.make_request("evm_increaseTime", [max_age // 2 + 3600])  # past the first score's age
    world.w3.provider.make_request("evm_mine", [])
    now = world.w3.eth.get_block("latest")["timestamp"]
    assert now > scored_at + max_age and now <= refreshed + max_age  # the line is still fresh for a draw


def chain_now(world) -> int:
    return world.w3.eth.get_block("latest")["timestamp"]


def export_at(world, when: int) -> None:
    """The merchant data as exported at `when`: the data files' modification time."""
    for path in Path(world.args[world.args.index("--data") + 1]).glob("*.csv"):
        os.utime(path, (when, when))


def credit_reports(world) -> list[tuple[int, int]]:
    """(sequence, as-of time) of every report the gateway accepted on the credit feed, in order."""
    gateway = world.manifest.contract(world.w3, "OracleGateway")
    logs = gateway.events.ReportAccepted().get_logs(from_block=0, argument_filters={"feed": CREDIT_FEED})
    return [(e["args"]["sequence"], e["args"]["asOf"]) for e in logs]


def test_lines_are_scored_as_of_their_data_and_data_too_old_is_not_sent(world):
    """A report is as of the time its merchant data was written, not the time it was sent: data older
    than the gateway takes publishes nothing and the cycle says how old it is; a fresher export is
    scored as of its files' modification time."""
    now = chain_now(world)
    export_at(world, now - 86_400 - 60)  # older than the credit feed's maximum age (a day)
    stale = run(world.args, world.env)
    assert stale.returncode == 0, stale.stderr[-3000:]
    cycle = cycle_of(stale)
    assert cycle["stale"] == CONSENTING and cycle["data_age"] >= 86_400 + 60
    assert (cycle["changed"], cycle["reports"]) == (0, 0) and not credit_reports(world)
    assert sum("data older than the gateway takes" in line for line in stale.stderr.splitlines()) == 1

    written = now - 5_000
    export_at(world, written)
    fresh = cycle_of(run(world.args, world.env))
    assert not fresh["stale"] and fresh["data_age"] >= 5_000 and fresh["changed"] == CONSENTING
    line = world.manifest.contract(world.w3, "CreditLine").functions
    assert {line.lineOf(world.wallets[f"M{i:06d}"]).call().scoredAt for i in range(CONSENTING)} == {written}
    assert {as_of for _, as_of in credit_reports(world)} == {written} and chain_now(world) >= written + 5_000


def test_a_report_left_pending_past_its_age_is_dropped_and_its_lines_sent_from_fresh_data(world):
    """The oracle dies with a report recorded but unsent and stays down longer than the gateway takes
    reports: on restart that report is dropped, not re-stamped and sent as fresh; its merchants are
    scored again from the data exported since and go out as of that data, each once."""
    crashed = run(world.args, world.env, YINQI_FAILPOINT="publish.after_enqueue:2")
    assert crashed.returncode == CRASH_EXIT, crashed.stderr[-3000:]
    ((_, written),) = credit_reports(world)  # the first batch landed; the second is pending
    world.w3.provider.make_request("evm_increaseTime", [86_400 + 600])  # down for more than a day
    world.w3.provider.make_request("evm_mine", [])
    exported = chain_now(world)
    export_at(world, exported)
    resumed = run(world.args, world.env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "too old for the gateway" in resumed.stderr and "dropped with the 0 pending report(s)" in resumed.stderr
    cycle = cycle_of(resumed)
    assert (cycle["changed"], cycle["heartbeats"], cycle["reports"]) == (CONSENTING - BATCH, 0, 2)
    assert credit_reports(world) == [(1, written), (2, exported), (3, exported)]
    merchants = [unpack_credit_word(w).merchant for w in pushed_words(world.w3, world.manifest)]
    assert len(merchants) == len(set(merchants)) == CONSENTING
