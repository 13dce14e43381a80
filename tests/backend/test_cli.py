"""The `yinqi` command as an operator runs it: real subprocesses, real anvil, real signals."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from backend.cli import COMMANDS, main
from backend.core.chain import rpc_chain_id
from backend.core.manifest import Manifest
from backend.local.node import LocalChain
from backend.services.deploy import STEPS
from tests.conftest import assert_one_line_error

YINQI = str(Path(sys.executable).with_name("yinqi"))


def run(args, env, timeout=120):
    return subprocess.run([YINQI, *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_commands_without_loading_them():
    script = "import sys\nfrom backend.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    script += "print(sorted(m for m in sys.modules if m.startswith(('backend.cli.', 'backend.demo', 'oracles'))))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "  receivable     Supply-chain receivables: issue, split, transfer," in out.stdout
    assert out.stdout.splitlines()[-1] == "['backend.cli.common']"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_listed_summary_is_the_commands_own(name):
    command = main.get_command(click.Context(main), name)
    assert command.name == name
    assert command.get_short_help_str(limit=10_000) == COMMANDS[name].summary


def test_deploy_twice_leaves_one_deployment(settings, local_chain, env_for):
    every = [step.name for step in STEPS]
    first = run(["deploy"], env_for(settings))
    assert first.returncode == 0, first.stderr
    (deployed,) = [line for line in first.stdout.splitlines() if line.startswith("Deployed ")]
    assert deployed.removeprefix("Deployed ").split(" to chain ")[0].split(", ") == every  # each by name, in order
    second = run(["deploy"], env_for(settings))
    assert second.returncode == 0, second.stderr
    assert "nothing to deploy" in second.stdout
    assert [line.split()[0] for line in second.stdout.splitlines() if line.startswith("  ")] == every
    (manifest,) = settings.deployments_dir.glob("*.json")
    assert list(Manifest.load(manifest).contracts) == every


def test_deploy_unknown_network_is_one_line(settings, env_for):
    assert_one_line_error(run(["deploy", "--network", "ethereum:atlantis"], env_for(settings)), "unknown network")


def test_deploy_without_chain_is_one_line(settings, env_for):
    assert_one_line_error(run(["deploy"], env_for(settings)), "yinqi chain")


def test_deploy_to_foreign_chain_without_key_is_one_line(tmp_path, env_for):
    from tests.conftest import free_port, make_settings

    foreign = make_settings(tmp_path, free_port(), chain_id=4242)
    with LocalChain(foreign):
        env = env_for(foreign, YINQI_RPC_URL=foreign.rpc_url)
        assert_one_line_error(run(["deploy"], env), "YINQI_DEPLOYER_KEY")


def test_chain_on_a_port_held_by_something_else_is_one_line(settings, env_for):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", settings.chain_port))
        listener.listen()
        result = run(["chain"], env_for(settings), timeout=30)
    assert_one_line_error(result, "is not an EVM node")


def test_chain_runs_until_ctrl_c_and_leaves_nothing_behind(settings, env_for):
    proc = subprocess.Popen([YINQI, "chain"], env=env_for(settings), stdout=subprocess.PIPE, text=True)
    try:
        assert "Local chain up" in proc.stdout.readline()
        assert rpc_chain_id(settings.rpc_url) == 31337
        second = run(["chain"], env_for(settings))
        assert second.returncode == 0 and "nothing to start" in second.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopped" in out
    assert rpc_chain_id(settings.rpc_url) is None
    assert not _anvils_of(settings)


def _pids(matches) -> list[int]:
    """PIDs of the processes whose command line `matches`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if matches(cmdline):
                pids.append(int(entry.name))
    return pids


def _anvils_of(settings) -> list[int]:
    """PIDs of anvil processes using this test's state file."""
    return _pids(lambda cmdline: "anvil" in cmdline and str(settings.chain_state_file) in cmdline)


def _children_of(settings) -> list[int]:
    """PIDs of the demo's broker, IoT oracle, simulator, lease keeper and API (their command lines name
    this test's home or its ports; the keeper, its command: only a demo runs one in the tests)."""
    marks = (str(settings.home), f"127.0.0.1:{settings.mqtt_port}", f"--port\x00{settings.api_port}", "keep\x00--")
    names = ("mosquitto", "iot-oracle", "credit-oracle", "devices", "api", "lease")
    return _pids(lambda cmdline: any(n in cmdline for n in names) and any(m in cmdline for m in marks))


def _start_demo(settings, env_for):
    proc = subprocess.Popen(
        [YINQI, "demo"],
        env=env_for(settings, YINQI_MQTT_PORT=str(settings.mqtt_port), YINQI_API_PORT=str(settings.api_port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError("demo did not come up:\n" + "".join(lines) + proc.stderr.read())


def test_demo_comes_up_prints_how_to_connect_and_stops_clean(settings, env_for):
    proc, out = _start_demo(settings, env_for)
    try:
        assert f"Chain RPC: {settings.rpc_url} (chain id 31337)" in out
        assert (
            "Deployed: SettlementToken, ParticipantRegistry, FinancingPool, Receivables, OracleGateway, CreditLine, "
            "EquipmentLease" in out
        )
        assert "Onboarded and funded 9 demo participants" in out
        assert "Seeded a supply chain" in out
        assert "Credit oracle scored merchant M" in out and "limit 0 DCNY" not in out
        assert "#0 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" in out
        assert "Auditor" in out
        assert len(_anvils_of(settings)) == 1
        assert f"MQTT broker: 127.0.0.1:{settings.mqtt_port}" in out
        # broker, three IoT and three credit oracles, device simulator, lease keeper, API
        assert len(_children_of(settings)) == 10
        assert f"Web UI and API: http://127.0.0.1:{settings.api_port}/" in out
        _assert_feeds_co_signed(settings)
        (killed,) = _pids(lambda cmdline: f"{settings.home}/iot-oracle-1.sqlite" in cmdline)
        os.kill(killed, signal.SIGKILL)  # a daemon that dies is started again
        deadline = time.monotonic() + 30
        while not (again := _pids(lambda cmdline: f"{settings.home}/iot-oracle-1.sqlite" in cmdline)) or again == [
            killed
        ]:
            assert time.monotonic() < deadline, "the killed IoT oracle was not restarted"
            time.sleep(0.2)
        time.sleep(2.5)  # the status file is rewritten every 2 s
        env = env_for(settings, YINQI_API_PORT=str(settings.api_port))
        status = run(["status"], env)
        assert status.returncode == 0, status.stderr
        lines = {line.split()[0]: line for line in status.stdout.splitlines()}
        assert lines["chain"].startswith("chain      up          block ")
        assert "1 restart(s)" in lines["iot-oracle-1"] and "up " in lines["iot-oracle-1"]
        assert "data lag" in lines["iot-oracle-2"] and "report(s) pending" in lines["credit-oracle-1"]
        assert "index" in lines["api"] and "block(s) behind" in lines["api"]
        assert set(lines) >= {"lease-keeper", "iot-devices", "credit-oracle-3", "iot-oracle-3"}
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "iot-oracle-1 exited with code -9; restarting in 1 s" in out and "iot-oracle-1: restarting" in out
    assert not _anvils_of(settings) and not _children_of(settings)
    assert_one_line_error(run(["status"], env_for(settings)), "no demo is running")

    # A second start resumes the saved chain: nothing to deploy, nobody to onboard.
    proc, out = _start_demo(settings, env_for)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert "Deployed:" not in out and "Onboarded" not in out
    assert proc.returncode == 0 and not _anvils_of(settings)


def test_demo_does_not_deploy_onto_a_chain_it_did_not_start(settings, tmp_path, env_for):
    """Another demo's chain (another home, another deployment) listening on the demo's port: refused."""
    from tests.conftest import make_settings

    other = make_settings(tmp_path / "other", settings.chain_port)
    with LocalChain(other):
        result = run(["demo"], env_for(settings, YINQI_MQTT_PORT=str(settings.mqtt_port)), timeout=60)
    assert_one_line_error(result, "that this demo did not deploy to")
    assert not Manifest.path_for(settings, 31337).exists()


def _assert_feeds_co_signed(settings):
    """Each feed has three operators and takes reports with two signatures, and both carry reports:
    the credit line the demo printed, and the fleet's usage and flags within a minute."""
    from backend.core.chain import connect
    from backend.core.feeds import CREDIT_FEED, IOT_FEED

    w3 = connect(settings.rpc_url)
    gateway = Manifest.for_chain(settings, w3).contract(w3, "OracleGateway")
    for feed in (CREDIT_FEED, IOT_FEED):
        assert gateway.functions.operatorCount(feed).call() == 3
        assert gateway.functions.feeds(feed).call().quorum == 2
    assert gateway.functions.feeds(CREDIT_FEED).call().lastSequence >= 1
    deadline = time.monotonic() + 60
    while gateway.functions.feeds(IOT_FEED).call().lastSequence == 0:
        assert time.monotonic() < deadline, "no co-signed IoT report within a minute"
        time.sleep(1)
    accepted = gateway.events.ReportAccepted().get_logs(from_block=0)
    assert {bytes(e["args"]["feed"]) for e in accepted} == {CREDIT_FEED, IOT_FEED}


def test_killed_demo_takes_its_chain_with_it(settings, env_for):
    proc, _ = _start_demo(settings, env_for)
    (anvil_pid,) = _anvils_of(settings)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _anvils_of(settings):
        time.sleep(0.1)
    assert not _anvils_of(settings), f"anvil {anvil_pid} outlived its parent"
    while time.monotonic() < deadline and _children_of(settings):
        time.sleep(0.1)
    assert not _children_of(settings), "the broker or an IoT process outlived the demo"


@pytest.mark.parametrize("variable", ["YINQI_CHAIN_PORT", "YINQI_ADMIN_TRANSFER_DELAY"])
def test_bad_setting_is_a_usage_error(settings, env_for, variable):
    result = run(["deploy"], {**env_for(settings), variable: "eighty"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and f"{variable} must be an integer" in result.stderr


# --- yinqi receivable ---------------------------------------------------------------------------


@pytest.fixture
def deployed_env(settings, local_chain, env_for):
    from backend.core.chain import connect
    from backend.demo.seeding import seed
    from backend.services.deploy import deploy

    seed(connect(local_chain.url), deploy(settings, environ={}).manifest)
    return env_for(settings)


def test_receivable_commands_walk_the_flow(deployed_env):
    from backend.core.dev_accounts import dev_account

    tier1, tier2 = dev_account(2).address, dev_account(3).address
    out = run(
        [
            "receivable",
            "--signer",
            "dev:1",
            "issue",
            "--supplier",
            tier1,
            "--amount",
            "1,000",
            "--due",
            "60d",
            "--ref",
            "PO-77",
        ],
        deployed_env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("#0 Active") and "1,000.00 DCNY" in out.stdout

    out = run(
        ["receivable", "--signer", "dev:2", "split", "0", "--part", f"{tier1}=600", "--part", f"{tier2}=400.5"],
        deployed_env,
    )
    assert_one_line_error(out, "ReceivableSplitSumMismatch(0, 1000000000, 1000500000)")
    out = run(
        ["receivable", "--signer", "dev:2", "split", "0", "--part", f"{tier1}=600", "--part", f"{tier2}=400"],
        deployed_env,
    )
    assert out.returncode == 0, out.stderr
    assert "#1 Active" in out.stdout and "#2 Active" in out.stdout and "part of #0" in out.stdout

    out = run(["receivable", "--signer", "dev:3", "finance", "2"], deployed_env)
    assert out.returncode == 0 and "Refused: NoFacility (recorded on chain)." in out.stdout

    out = run(["receivable", "--signer", "dev:1", "repay", "2", "--amount", "400"], deployed_env)
    assert out.returncode == 0 and "#2 Settled" in out.stdout

    out = run(["receivable", "list", "--participant", tier1], deployed_env)
    assert out.returncode == 0 and "#0 Split" in out.stdout and "#1 Active" in out.stdout
    out = run(["receivable", "show", "0"], deployed_env)
    assert "split into #1, #2" in out.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["show", "99"], "ReceivableUnknown(99)"),
        (
            ["--signer", "dev:1", "issue", "--supplier", "0xabc", "--amount", "5", "--due", "5d", "--ref", "x"],
            "not an address",
        ),
        (
            [
                "--signer",
                "dev:1",
                "issue",
                "--supplier",
                "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
                "--amount",
                "-5",
                "--due",
                "5d",
                "--ref",
                "x",
            ],
            "amount must be positive",
        ),
        (
            [
                "--signer",
                "dev:1",
                "issue",
                "--supplier",
                "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
                "--amount",
                "0.0000001",
                "--due",
                "5d",
                "--ref",
                "x",
            ],
            "more than 6 decimals",
        ),
        (
            [
                "--signer",
                "dev:1",
                "issue",
                "--supplier",
                "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
                "--amount",
                "5",
                "--due",
                "tomorrow",
                "--ref",
                "x",
            ],
            "due date must be",
        ),
        (["--signer", "dev:14", "default", "0"], "no dev account '14'"),
        (["--signer", "vault:bank", "default", "0"], "is not dev:N, env:NAME or keystore:PATH"),
        (["--signer", "env:OPERATOR", "default", "0"], "set YINQI_OPERATOR_KEY"),
        (["default", "0"], "pass --signer"),
        (["--signer", "dev:1", "split", "0", "--part", "nonsense"], "ADDRESS=AMOUNT"),
    ],
)
def test_receivable_bad_input_is_one_line(deployed_env, args, fragment):
    assert_one_line_error(run(["receivable", *args], deployed_env), fragment)


def test_receivable_without_deployment_is_one_line(settings, local_chain, env_for):
    assert_one_line_error(run(["receivable", "show", "0"], env_for(settings)), "run `yinqi deploy`")


# --- yinqi lease, participant, pool, debtor-terms -------------------------------------------------


def _advance(settings, seconds):
    from backend.core.chain import connect

    w3 = connect(settings.rpc_url)
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


def test_lease_commands_walk_the_flow(settings, deployed_env):
    """Lessor offers, lessee accepts, rent is billed, the lessor assigns a billed period and finances it,
    the lessee pays the rest and the lease closes: every step from the command line."""
    from backend.core.dev_accounts import dev_account

    lessee = dev_account(6).address
    offer = ["lease", "--signer", "dev:1", "offer", "--lessee", lessee, "--device", "CLI-EXC-1", "--period", "1d"]
    offer += ["--periods", "2", "--deposit", "100", "--minimum-rent", "50", "--tier", "8:150", "--tier", "*:100"]
    out = run(offer, deployed_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("#0 Offered") and "up to 8 h at 150.00/h, above at 100.00/h" in out.stdout
    assert "offer stands until" in out.stdout

    out = run([*offer[:-10], "--periods", "2", "--deposit", "0", "--minimum-rent", "1", "--tier", "1:1"], deployed_env)
    assert_one_line_error(out, "LeaseDeviceInUse")  # the device is held by the open offer
    other = run([*offer[:7], "CLI-EXC-2", *offer[8:]], deployed_env)
    assert other.returncode == 0 and other.stdout.startswith("#1 Offered")
    out = run(["lease", "--signer", "dev:1", "cancel", "1"], deployed_env)
    assert out.returncode == 0 and out.stdout.startswith("#1 Cancelled")

    out = run(["lease", "--signer", "dev:6", "accept", "0"], deployed_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("#0 Active") and "period 0: 0.00 h so far, not billed" in out.stdout

    _advance(settings, 2 * 86_400 + 60)  # period 0 ended a day ago: its report window closed
    out = run(["lease", "--signer", "dev:2", "bill", "0"], deployed_env)  # anyone may bill
    assert out.returncode == 0 and "Billed period(s) 0." in out.stdout and "rent 50.00, paid 0.00" in out.stdout

    out = run(["lease", "--signer", "dev:1", "assign", "0", "--period", "0", "--finance"], deployed_env)
    assert out.returncode == 0, out.stderr
    assert "is receivable #" in out.stdout and "Financing refused: NoFacility" in out.stdout
    out = run(["lease", "--signer", "dev:1", "assign", "0", "--period", "0"], deployed_env)
    assert_one_line_error(out, "LeasePeriodNotAssignable(0, 0)")  # assigned already

    _advance(settings, 86_400)
    out = run(["lease", "--signer", "dev:6", "pay", "0"], deployed_env)  # all that is billed: period 1
    assert out.returncode == 0 and "Paid 50.00 DCNY." in out.stdout and "outstanding 0.00 DCNY" in out.stdout
    out = run(["lease", "--signer", "dev:6", "close", "0"], deployed_env)
    assert out.returncode == 0 and out.stdout.startswith("#0 Closed")
    out = run(["lease", "list", "--party", lessee], deployed_env)
    assert out.returncode == 0 and "#0 Closed" in out.stdout and "#1 Cancelled" in out.stdout


def test_an_assigned_rent_period_is_financed_from_the_cli_on_the_banks_terms(settings, deployed_env):
    from backend.core.dev_accounts import dev_account

    lessee = dev_account(6).address
    out = run(
        [
            "debtor-terms",
            "--signer",
            "dev:0",
            "set",
            lessee,
            "--limit",
            "1,000,000",
            "--rate",
            "5.5%",
            "--advance-rate",
            "90%",
            "--fee",
            "0.2",
        ],
        deployed_env,
    )
    assert out.returncode == 0, out.stderr
    assert "discount 5.5% a year on 90% advanced (haircut 10%), fee 0.2%" in out.stdout
    assert run(["pool", "--signer", "dev:0", "deposit", "--amount", "100,000"], deployed_env).returncode == 0
    offer = ["lease", "--signer", "dev:1", "offer", "--lessee", lessee, "--device", "CLI-EXC-9", "--periods", "3"]
    offer += ["--deposit", "0", "--minimum-rent", "1,000", "--tier", "*:100"]
    assert run(offer, deployed_env).returncode == 0
    assert run(["lease", "--signer", "dev:6", "accept", "0"], deployed_env).returncode == 0
    _advance(settings, 2 * 86_400 + 60)
    out = run(["lease", "--signer", "dev:1", "assign", "0", "--period", "0", "--finance"], deployed_env)
    assert out.returncode == 0, out.stderr
    assert "Financed: " in out.stdout and "fee 2.00)" in out.stdout and not out.stderr  # 0.2 % of 1,000
    out = run(["debtor-terms", "show", lessee], deployed_env)
    assert "exposure 1,000.00 DCNY" in out.stdout


def test_bank_staff_onboard_fund_the_pool_and_suspend_from_the_cli(deployed_env, tmp_path):
    newcomer = "0x" + "5a" * 20
    dossier = tmp_path / "kyc.pdf"
    dossier.write_bytes(b"KYC dossier of Newco")
    out = run(
        [
            "participant",
            "--signer",
            "dev:0",
            "onboard",
            newcomer,
            "--name",
            "Newco 新公司",
            "--roles",
            "supplier,lessee",
            "--kyc",
            str(dossier),
        ],
        deployed_env,
    )
    assert out.returncode == 0, out.stderr
    assert "active    Newco 新公司 [supplier,lessee]" in out.stdout
    out = run(["participant", "--signer", "dev:0", "roles", newcomer, "--roles", "merchant"], deployed_env)
    assert out.returncode == 0 and "[merchant]" in out.stdout
    out = run(["participant", "--signer", "dev:0", "suspend", newcomer, "--reason", "KYC expired"], deployed_env)
    assert out.returncode == 0 and "SUSPENDED" in out.stdout
    out = run(["participant", "list"], deployed_env)
    assert out.returncode == 0 and "Yinqi Demo Bank" in out.stdout and "SUSPENDED Newco" in out.stdout
    out = run(["participant", "--signer", "dev:0", "reinstate", newcomer], deployed_env)
    assert out.returncode == 0 and "active" in out.stdout

    before = run(["pool", "show"], deployed_env).stdout
    out = run(["pool", "--signer", "dev:0", "deposit", "--amount", "1,000"], deployed_env)
    assert out.returncode == 0 and "Deposited 1,000.00 DCNY." in out.stdout
    out = run(["pool", "--signer", "dev:0", "withdraw", "--amount", "1,000"], deployed_env)
    assert out.returncode == 0, out.stderr
    assert run(["pool", "show"], deployed_env).stdout == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["participant", "--signer", "dev:0", "onboard", "0x" + "5b" * 20, "--name", "X", "--roles", "boss"],
            "unknown role",
        ),
        (
            ["participant", "--signer", "dev:2", "onboard", "0x" + "5b" * 20, "--name", "X", "--roles", "supplier"],
            "AccessControlUnauthorizedAccount",
        ),
        (["participant", "--signer", "dev:0", "suspend", "0x" + "5b" * 20, "--reason", "r" * 33], "at most 32 bytes"),
        (
            ["participant", "--signer", "dev:0", "onboard", "nobody", "--name", "X", "--roles", "supplier"],
            "not an address",
        ),
        (
            ["debtor-terms", "--signer", "dev:0", "set", "0x" + "5b" * 20, "--limit", "1", "--rate", "50%"],
            "out of range",
        ),
        (
            ["debtor-terms", "--signer", "dev:0", "set", "0x" + "5b" * 20, "--limit", "1", "--rate", "x"],
            "not a percentage",
        ),
        (["pool", "--signer", "dev:2", "deposit", "--amount", "1"], "AccessControlUnauthorizedAccount"),
        (["pool", "--signer", "dev:0", "withdraw", "--amount", "999,999,999"], "Pool"),
        (["lease", "show", "42"], "no lease #42"),
        (
            [
                "lease",
                "--signer",
                "dev:1",
                "offer",
                "--lessee",
                "0x" + "5b" * 20,
                "--device",
                "D",
                "--periods",
                "1",
                "--deposit",
                "0",
                "--minimum-rent",
                "0",
                "--tier",
                "8-150",
            ],
            "HOURS:PRICE",
        ),
        (
            [
                "lease",
                "--signer",
                "dev:1",
                "offer",
                "--lessee",
                "0x" + "5b" * 20,
                "--device",
                "D",
                "--period",
                "1 week",
                "--periods",
                "1",
                "--deposit",
                "0",
                "--minimum-rent",
                "0",
                "--tier",
                "*:1",
            ],
            "a duration is",
        ),
        (["lease", "--signer", "dev:6", "accept", "7"], "no lease #7"),
    ],
)
def test_bank_and_lease_bad_input_is_one_line(deployed_env, args, fragment):
    assert_one_line_error(run(args, deployed_env), fragment)
