"""Co-signed credit reports (k-of-n) on a real anvil and mosquitto: three operators, each its own
process, key, data copy and state, with the credit feed at 2-of-3. Reports land with two operators'
signatures, each line once; one operator alone moves nothing; an operator whose data differs refuses
and says why; forged proposals get no answer. The message and credit checks are unit-tested apart."""

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
import requests
from eth_account import Account
from gmqtt import Client
from gmqtt.mqtt.constants import MQTTv50
from web3 import Web3

from backend.core.chain import connect
from backend.core.codec import credit_payload, pack_credit_word, unpack_credit_word
from backend.core.feeds import CREDIT_FEED, IOT_FEED
from backend.services.deploy import deploy
from oracles.cosign import (
    Endorsement,
    OperatorSet,
    Proposal,
    Refusal,
    Round,
    canonical,
    decode,
    encode,
    network_message,
    reachable_as_of,
    signed,
    signer_of,
    slot,
)
from oracles.credit.agree import (
    CreditObservation,
    ObservedLine,
    applied_items,
    check_credit,
    credit_items,
    merkle_root,
)
from oracles.credit.consent import sign, to_document
from oracles.credit.synthetic import generate
from oracles.failpoints import CRASH_EXIT
from oracles.gateway import ReportDomain, ReportPublisher, report_message, sign_report
from oracles.outbox import Outbox
from tests.conftest import free_port
from tests.oracles.conftest import onboard_merchants, scrape
from tests.oracles.test_credit_daemon import YINQI, consent_of, pushed_words

OPERATORS = sorted(
    (Account.from_key(Web3.keccak(text=f"credit operator {i}")) for i in range(3)), key=lambda a: int(a.address, 16)
)
MERCHANTS, CONSENTING, BATCH, ROUND = 20, 12, 5, 2.0
DOMAIN = ReportDomain(31337, Web3.to_checksum_address("0x" + "11" * 20))


# --- unit: messages and credit checks ----------------------------------------------------------


def test_network_messages_bind_every_field_and_never_pass_as_a_report():
    leader = OPERATORS[0]
    proposal = signed(DOMAIN, Proposal(CREDIT_FEED, 7, 900, 1_000, b"\x01" * 96, {"a": "0x1"}), leader)
    assert signer_of(network_message(DOMAIN, proposal), proposal.signature) == leader.address
    for change in (
        {"feed": IOT_FEED},
        {"sequence": 8},
        {"attempt": 901},
        {"as_of": 1_001},
        {"payload": b"\x02" * 96},
        {"items": {"a": "0x2"}},
    ):
        assert signer_of(network_message(DOMAIN, replace(proposal, **change)), proposal.signature) != leader.address
    other_domain = ReportDomain(DOMAIN.chain_id + 1, DOMAIN.gateway)
    assert signer_of(network_message(other_domain, proposal), proposal.signature) != leader.address
    refusal = signed(DOMAIN, Refusal(CREDIT_FEED, 7, 900, proposal.payload_hash, "word_mismatch", 5), leader)
    assert signer_of(network_message(DOMAIN, refusal), refusal.signature) == leader.address
    for change in ({"reason": "as_of_ahead"}, {"own_as_of": 6}, {"sequence": 6}, {"payload_hash": b"\x00" * 32}):
        assert signer_of(network_message(DOMAIN, replace(refusal, **change)), refusal.signature) != leader.address
    # the network's domain is not the gateway's: no proposal signature is a report signature
    report = report_message(DOMAIN, CREDIT_FEED, 7, 1_000, proposal.payload)
    assert report.header != network_message(DOMAIN, proposal).header
    assert signer_of(report, proposal.signature) != leader.address
    # and on the wire every field comes back as it went
    endorsement = Endorsement(CREDIT_FEED, 7, 900, 1_000, proposal.payload_hash, leader.address, b"\x03" * 65)
    for message in (proposal, refusal, endorsement):
        assert decode(encode(message)) == message
    with pytest.raises(ValueError, match="bytes"):
        decode(b" " * (1 << 20) + b"{}")
    with pytest.raises(ValueError, match="uint64"):
        decode(encode(proposal).replace(b'"sequence":7', b'"sequence":-7'))


def _observed(*merchants: str, as_of: int = 1_000) -> dict[str, ObservedLine]:
    return {
        m: ObservedLine(pack_credit_word(m, 1_000 + i, 700, 900), Web3.keccak(text=m), as_of)
        for i, m in enumerate(merchants)
    }


def _proposal_of(lines: dict[str, ObservedLine], as_of: int, model: bytes = b"\x0a" * 32) -> Proposal:
    ordered = sorted(lines, key=lambda m: int(m, 16))
    payload = credit_payload(model, merkle_root([lines[m].leaf for m in ordered]), [lines[m].word for m in ordered])
    return Proposal(CREDIT_FEED, 1, 1, as_of, payload, credit_items(payload))


def test_check_credit_verdicts():
    a, b, c = sorted((Account.from_key(Web3.keccak(text=f"m{i}")).address for i in range(3)), key=lambda x: int(x, 16))
    lines = _observed(a, b)
    cut = ObservedLine(pack_credit_word(c, 0, 650, 900), Web3.keccak(text="cut"), 800, cut=True)
    obs = CreditObservation(b"\x0a" * 32, {**lines, c: cut})
    ok = _proposal_of(lines, 1_000)
    assert check_credit(obs, ok, {}, {}) == (True, "", 0)
    assert check_credit(None, ok, {}, {}).reason == "not_observed"
    assert check_credit(obs, _proposal_of(lines, 1_000, b"\x0b" * 32), {}, {}).reason == "model_mismatch"
    stranger = Account.from_key(Web3.keccak(text="stranger")).address
    assert check_credit(obs, _proposal_of(_observed(a, stranger), 1_000), {}, {}).reason == "unknown_merchant"
    other = {a: lines[a], b: replace(lines[b], word=pack_credit_word(b, 5, 700, 900))}
    assert check_credit(obs, _proposal_of(other, 1_000), {}, {}).reason == "word_mismatch"
    leafy = {a: lines[a], b: replace(lines[b], leaf=Web3.keccak(text="other features"))}
    assert check_credit(obs, _proposal_of(leafy, 1_000), {}, {}).reason == "features_mismatch"
    assert check_credit(obs, replace(ok, items={a: "0x1"}), {}, {}).reason == "items_mismatch"
    assert check_credit(obs, _proposal_of(lines, 1_001), {}, {}) == (False, "as_of_ahead", 1_000)
    assert check_credit(obs, _proposal_of({c: cut}, 799), {}, {}).reason == "as_of_behind"
    assert check_credit(obs, _proposal_of({c: cut}, 900), {}, {}).ok  # a cut: as of its score or later
    assert check_credit(obs, _proposal_of({}, 1_000), {}, {}).reason == "empty_report"  # it would burn a sequence
    on_chain = {a: hex(lines[a].word)}
    assert check_credit(obs, ok, on_chain, {a: 1_000}).reason == "already_on_chain"
    assert check_credit(obs, _proposal_of(lines, 999), on_chain, {a: 990}).ok  # newer data: a heartbeat


def test_only_signatures_the_gateway_takes_are_counted():
    """eth_account recovers a high-s or v ∈ {0, 1} signature; OpenZeppelin's ECDSA (the gateway)
    reverts on both, so a follower could hand the leader one that makes its report revert."""
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    report = report_message(DOMAIN, CREDIT_FEED, 1, 1_000, b"\x01" * 96)
    (good,) = sign_report(DOMAIN, CREDIT_FEED, 1, 1_000, b"\x01" * 96, [OPERATORS[0]])
    high_s = good[:32] + (order - int.from_bytes(good[32:64], "big")).to_bytes(32, "big") + bytes([55 - good[64]])
    low_v = good[:64] + bytes([good[64] - 27])
    assert canonical(good)
    for bad in (high_s, low_v, good + b"\x00"):
        assert not canonical(bad)
    assert signer_of(report, high_s) == signer_of(report, low_v) == OPERATORS[0].address  # recovered all the same


def test_a_re_proposal_takes_the_newest_as_of_the_quorum_can_sign():
    proposal = Proposal(CREDIT_FEED, 1, 1, 1_000, b"\x01" * 96, {})
    a, b, c = (o.address for o in OPERATORS)

    def round_with(*offers: int, quorum: int = 2) -> Round:
        rnd = Round(proposal, OperatorSet((a, b, c)), quorum, report_message(DOMAIN, CREDIT_FEED, 1, 1_000, b""))
        rnd.signatures[a] = b"leader"
        for who, offer in zip((b, c), offers, strict=False):
            rnd.refusals[who] = Refusal(CREDIT_FEED, 1, 1, proposal.payload_hash, "as_of_ahead", offer, as_of=1_000)
        return rnd

    assert reachable_as_of(round_with(990, 950), 1_000, 900) == 990
    assert reachable_as_of(round_with(990, 950, quorum=3), 1_000, 900) == 950  # both followers must sign
    assert reachable_as_of(round_with(5_000, 950), 1_000, 900) == 950  # a time ahead of ours is no offer
    assert reachable_as_of(round_with(800), 1_000, 900) is None  # below the items' newest on chain


def test_a_co_signed_report_keeps_its_signatures_until_renumbered(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.enqueue(CREDIT_FEED, 3, 1_000, b"p", {"a": "1"}, [b"\x01" * 65, b"\x02" * 65])
    assert outbox.pending(CREDIT_FEED)[0].signatures == (b"\x01" * 65, b"\x02" * 65)
    outbox.renumber(CREDIT_FEED, 4)  # signatures are for sequence 3 only
    assert [(r.sequence, r.signatures) for r in outbox.pending(CREDIT_FEED)] == [(4, ())]


# --- three daemons on anvil and mosquitto --------------------------------------------------------


@dataclass
class Network:
    w3: Web3
    manifest: object
    wallets: dict[str, str]
    base: Path  # each operator's directory: data copy, state, reasons, log
    consents: Path
    model: Path
    broker: str
    env: dict[str, str]


@pytest.fixture
def network(settings, local_chain, model_dir, tmp_path, env_for, broker):
    """The credit feed at 2-of-3 with OPERATORS (funded), the IoT feed at its own quorum (1); merchants
    onboarded, consenting and their data exported."""
    operators = ",".join(a.address for a in OPERATORS)
    manifest = deploy(
        replace(settings, credit_oracle_quorum=2), environ={"YINQI_CREDIT_ORACLE_OPERATORS": operators}
    ).manifest
    w3 = connect(local_chain.url)
    for operator in OPERATORS:
        w3.provider.make_request("anvil_setBalance", [operator.address, hex(10**20)])
    data, consents = tmp_path / "data", tmp_path / "consents"
    data.mkdir(), consents.mkdir()
    generate(MERCHANTS, 12, seed=5).to_csv(data / "merchants.csv", index=False)
    now = w3.eth.get_block("latest")["timestamp"]
    wallets = {}
    for i in range(CONSENTING):
        merchant_id, wallet = f"M{i:06d}", Account.from_key(Web3.keccak(text=f"merchant wallet {i}"))
        consent = consent_of(manifest, wallet.address, merchant_id, now + 30 * 86_400)
        (consents / f"{merchant_id}.json").write_text(json.dumps(to_document(consent, sign(consent, wallet))))
        wallets[merchant_id] = wallet.address
    onboard_merchants(w3, manifest, wallets)
    env = env_for(settings, **{f"YINQI_OP{i}_KEY": a.key.hex() for i, a in enumerate(OPERATORS)})
    net = Network(w3, manifest, wallets, tmp_path, consents, model_dir, broker.address, env)
    for i in range(len(OPERATORS)):
        shutil.copytree(data, tmp_path / f"op{i}" / "data")  # copies keep the export's modification time
    return net


class Daemon:
    """One operator's `yinqi credit-oracle run`, co-signing, with its metrics on a free port."""

    def __init__(self, net: Network, i: int, *, round_seconds: float = ROUND, **env: str) -> None:
        home = net.base / f"op{i}"
        self.log, self.state, self.port = home / "daemon.log", home / "state.sqlite", free_port()
        args = [
            "credit-oracle", "run",
            "--data", str(home / "data"), "--consents", str(net.consents), "--model", str(net.model),
            "--state", str(self.state), "--reasons", str(home / "reasons.json"),
            "--signer", f"env:OP{i}", "--batch-size", str(BATCH), "--interval", "0.5",
            "--cosign-broker", net.broker, "--round-seconds", str(round_seconds), "--metrics-port", str(self.port),
        ]  # fmt: skip
        with self.log.open("w") as log:
            self.proc = subprocess.Popen([YINQI, *args], env=net.env | env, stdout=subprocess.DEVNULL, stderr=log)

    def metric(self, name: str) -> float:
        """A sample's value (0 while the daemon is not serving yet)."""
        try:
            return scrape(self.port).get(f"yinqi_credit_oracle_{name}", 0.0)
        except requests.ConnectionError:
            return 0.0

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.log.read_text()


@pytest.fixture
def daemons():
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.stop()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def landed(net: Network) -> list[str]:
    return [unpack_credit_word(w).merchant for w in pushed_words(net.w3, net.manifest)]


def submitted(w3, manifest, feed: bytes) -> list[tuple[dict, list[str]]]:
    """For every report of `feed` the gateway accepted, in order: the submit call's arguments and who
    signed it."""
    gateway = manifest.contract(w3, "OracleGateway")
    domain, found = ReportDomain.of(manifest), []
    for event in gateway.events.ReportAccepted().get_logs(from_block=0, argument_filters={"feed": feed}):
        _, call = gateway.decode_function_input(w3.eth.get_transaction(event["transactionHash"])["input"])
        message = report_message(domain, feed, call["sequence"], call["asOf"], call["payload"])
        found.append((call, [signer_of(message, s) for s in call["signatures"]]))
    return found


def report_signers(net: Network) -> list[list[str]]:
    """For every credit report the gateway accepted, who signed it, in the order submitted."""
    return [who for _, who in submitted(net.w3, net.manifest, CREDIT_FEED)]


def consenting(net: Network) -> set[str]:
    return set(net.wallets.values())


def test_two_of_three_credit_reports_land_each_line_once(network, daemons):
    gateway = network.manifest.contract(network.w3, "OracleGateway")
    assert [gateway.functions.feeds(f).call().quorum for f in (CREDIT_FEED, IOT_FEED)] == [2, 1]  # per feed
    daemons += [Daemon(network, i) for i in range(3)]
    wait_for(lambda: set(landed(network)) == consenting(network), 120, "every line on chain")
    time.sleep(3 * ROUND)  # more slots, more leaders: nothing lands twice
    assert sorted(landed(network)) == sorted(consenting(network))
    signers = report_signers(network)
    assert len(signers) >= -(-CONSENTING // BATCH)
    for who in signers:
        assert len(set(who)) == len(who) >= 2 and set(who) <= {a.address for a in OPERATORS}
        assert who == sorted(who, key=lambda a: int(a, 16))
    assert sum(d.metric('cosign_rounds_total{outcome="agreed"}') for d in daemons) >= len(signers)
    for daemon in daemons:  # whoever led, each outbox knows every line on chain
        with sqlite3.connect(daemon.state) as db:
            confirmed = {row[0] for row in db.execute("SELECT item FROM confirmed")}
            assert confirmed == consenting(network)
            assert db.execute("SELECT COUNT(*) FROM reports WHERE status = 'pending'").fetchone()[0] == 0


def test_one_operator_alone_moves_nothing(network, daemons):
    daemons.append(alone := Daemon(network, 0))
    wait_for(lambda: alone.metric('cosign_rounds_total{outcome="no_quorum"}') > 0, 60, "a round it led")
    time.sleep(4 * ROUND)
    gateway = network.manifest.contract(network.w3, "OracleGateway")
    assert gateway.functions.feeds(CREDIT_FEED).call().lastSequence == 0
    with sqlite3.connect(alone.state) as db:
        assert db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0  # nothing recorded unsigned
    assert "cycle stopped" in alone.stop() and not landed(network)


def test_an_operator_fed_different_data_withholds_and_the_other_two_land_it(network, daemons):
    data = network.base / "op2" / "data" / "merchants.csv"
    written = data.stat().st_mtime
    frame = pd.read_csv(data, dtype={"merchant_id": str})
    frame[["transaction_amount", "transaction_count"]] *= 3  # a different export, written at the same time
    frame.to_csv(data, index=False)
    os.utime(data, (written, written))
    daemons += [Daemon(network, i) for i in range(3)]
    wait_for(lambda: set(landed(network)) == consenting(network), 120, "every line on chain")
    assert sorted(landed(network)) == sorted(consenting(network))
    for who in report_signers(network):
        assert who == [OPERATORS[0].address, OPERATORS[1].address]
    assert daemons[2].metric('cosign_refusals_total{reason="word_mismatch"}') > 0
    assert "refused: word_mismatch" in daemons[2].stop()


def test_a_leader_killed_after_its_quorum_is_replaced_and_nothing_lands_twice(network, daemons):
    """X gathers its quorum and dies before sending (a failpoint: as ``kill -9``); the sequence stays
    free, the next slot's leader lands the same lines with the third operator, and none lands twice.
    X and Y start as the slot before X's begins (its leader, Z, is not running yet), so X's slot is
    the first in which anyone proposes; Z starts once X is dead."""
    rounds = 8.0  # time for two daemons' first cycles within Z's slot
    operators = OperatorSet.read(network.w3, network.manifest, CREDIT_FEED).operators
    assert operators == tuple(a.address for a in OPERATORS)  # slot s is led by OPERATORS[s % 3]
    x, y, z = 0, 1, 2  # Z leads the slot before X's, Y the one after
    now = slot(time.time(), rounds)
    time.sleep(next(s for s in range(now + 1, now + 4) if s % 3 == z) * rounds - time.time())
    killed = Daemon(network, x, round_seconds=rounds, YINQI_FAILPOINT="cosign.after_quorum")
    daemons += [killed, Daemon(network, y, round_seconds=rounds)]
    wait_for(lambda: killed.proc.poll() is not None, 4 * rounds, "the leader's crash after its quorum")
    assert killed.proc.returncode == CRASH_EXIT
    gateway = network.manifest.contract(network.w3, "OracleGateway")
    assert gateway.functions.feeds(CREDIT_FEED).call().lastSequence == 0  # signed, never sent
    daemons.append(Daemon(network, z, round_seconds=rounds))
    wait_for(lambda: set(landed(network)) == consenting(network), 120, "every line on chain")
    assert sorted(landed(network)) == sorted(consenting(network))
    for who in report_signers(network):
        assert who == [OPERATORS[y].address, OPERATORS[z].address]
    with sqlite3.connect(killed.state) as db:  # it recorded nothing: the crash came before the outbox
        assert db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0


async def _forge(broker: str, messages: list[tuple[str, bytes]], wait: float) -> list[bytes]:
    """Publish each (topic, body) and return every answer (endorsement or refusal) seen in `wait` s."""
    host, _, port = broker.rpartition(":")
    answers: list[bytes] = []
    client = Client(f"forger-{time.monotonic_ns()}")
    client.on_message = lambda c, topic, payload, qos, props: answers.append(payload) or 0
    subscribed = asyncio.Event()
    client.on_subscribe = lambda *a: subscribed.set()
    await client.connect(host, int(port), version=MQTTv50)
    client.subscribe(f"yinqi/oracle/{CREDIT_FEED.hex()}/endorsement/+", qos=1)
    client.subscribe(f"yinqi/oracle/{CREDIT_FEED.hex()}/refusal/+", qos=1)
    await asyncio.wait_for(subscribed.wait(), 10)
    for topic, body in messages:
        client.publish(topic, body, qos=1)
    await asyncio.sleep(wait)
    await client.disconnect()
    return answers


def test_forged_proposals_are_ignored(network, daemons):
    """One follower (k = 2, so it never lands anything itself) and proposals from the test: a valid
    one from the slot's leader is answered (a refusal: the merchant is unknown); a bad signature, a
    key that is no operator, another feed, a stale sequence, the wrong leader and a past slot get no
    answer."""
    follower = OPERATORS[0]
    daemons.append(daemon := Daemon(network, 0))
    wait_for((network.base / "op0" / "reasons.json").exists, 60, "the follower's first cycle")
    time.sleep(0.5)
    operators = OperatorSet.read(network.w3, network.manifest, CREDIT_FEED)
    domain = ReportDomain.of(network.manifest)
    stranger = Account.from_key(Web3.keccak(text="not an operator"))
    payload = credit_payload(b"\x0a" * 32, b"\x0b" * 32, [pack_credit_word(stranger.address, 1, 600, 900)])

    def proposal(attempt: int, **change) -> Proposal:
        return replace(Proposal(CREDIT_FEED, 1, attempt, network.w3.eth.get_block("latest")["timestamp"], payload,
                                credit_items(payload)), **change)  # fmt: skip

    def forged(case: str) -> tuple[str, bytes]:
        while True:  # the start of a slot another operator leads: a proposal is taken in its slot only
            now = slot(time.time(), ROUND)
            if operators.leader(now) != follower.address and time.time() - now * ROUND < 0.3:
                break
            time.sleep(0.05)
        other = next(a for a in OPERATORS if a.address == operators.leader(now))
        wrong = next(a for a in OPERATORS if a not in (follower, other))
        signer, message = other, proposal(now)
        if case == "bad_signature":
            message = replace(signed(domain, message, stranger), sender=other.address)
        elif case == "not_an_operator":
            signer = stranger
        elif case == "wrong_feed":
            message = replace(message, feed=IOT_FEED)
        elif case == "stale_sequence":
            message = replace(message, sequence=5)
        elif case == "not_the_leader":
            signer = wrong
        elif case == "stale_attempt":
            message = replace(message, attempt=now - 2)  # its leader's slot two slots ago
        if case != "bad_signature":
            message = signed(domain, message, signer)
        return f"yinqi/oracle/{CREDIT_FEED.hex()}/proposal/{message.sender}", encode(message)

    answered = asyncio.run(_forge(network.broker, [forged("valid")], 3))
    assert [decode(a).reason for a in answered] == ["model_mismatch"]  # it is listening, and says why
    for case in ("bad_signature", "not_an_operator", "wrong_feed", "stale_sequence", "not_the_leader", "stale_attempt"):
        before = daemon.metric(f'cosign_proposals_ignored_total{{reason="{case}"}}')
        assert asyncio.run(_forge(network.broker, [forged(case)], 1.5)) == [], case
        assert daemon.metric(f'cosign_proposals_ignored_total{{reason="{case}"}}') == before + 1, case


class LocalQuorum:
    """What a round of co-signers returns, from keys the test holds: each a report signature."""

    def __init__(self, domain: ReportDomain, signers: list) -> None:
        self.domain, self.signers = domain, signers

    def gather_blocking(self, sequence, as_of, payload, items, *, floor_as_of):
        return as_of, sign_report(self.domain, CREDIT_FEED, sequence, as_of, payload, self.signers)


def test_a_co_signed_report_is_resent_as_signed_never_renumbered_and_the_chain_syncs_it(network, tmp_path):
    """B's co-signed report waits in its outbox while A's report takes its sequence: B drops it (its
    signatures are for that sequence) instead of renumbering, and learns A's lines from the chain; a
    lost race in the send is dropped too; a report still next is resent with its stored signatures."""
    w3, manifest, domain = network.w3, network.manifest, ReportDomain.of(network.manifest)
    applied = partial(applied_items, manifest.contract(w3, "CreditLine"))  # as the daemon reads it
    a_box, b_box = Outbox(tmp_path / "a.sqlite"), Outbox(tmp_path / "b.sqlite")
    a = ReportPublisher(w3, manifest, OPERATORS[0], a_box, CREDIT_FEED, cosigner=LocalQuorum(domain, OPERATORS[:2]))
    b = ReportPublisher(w3, manifest, OPERATORS[1], b_box, CREDIT_FEED, cosigner=LocalQuorum(domain, OPERATORS[1:]))
    wallets = list(network.wallets.values())
    now = a.chain_now()

    def report(i: int) -> tuple[bytes, dict[str, str]]:
        payload = credit_payload(b"\x01" * 32, b"\x02" * 32, [pack_credit_word(wallets[i], 1_000, 700, 900)])
        return payload, credit_items(payload)

    def co_signed(box: Outbox, sequence: int, i: int):
        payload, items = report(i)
        signatures = sign_report(domain, CREDIT_FEED, sequence, now, payload, OPERATORS[1:])
        return box.enqueue(CREDIT_FEED, sequence, now, payload, items, signatures)

    co_signed(b_box, 1, 0)  # gathered, recorded, and B stopped before sending it
    a.publish(*report(1), as_of=now)  # A's report takes sequence 1
    assert b.recover() == 0 and not b_box.pending(CREDIT_FEED)  # dropped, not renumbered to 2
    assert b.metrics.value("reports_dropped_total", reason="superseded") == 1
    assert b.sync(applied) == 1 and b_box.confirmed_values(CREDIT_FEED) == report(1)[1]
    assert b_box.confirmed_as_of(CREDIT_FEED) == {wallets[1]: now}

    lost = co_signed(b_box, 2, 2)
    a.publish(*report(3), as_of=now)  # A wins sequence 2
    b._deliver(lost)  # B's send loses the race: dropped, not raised
    assert not b_box.pending(CREDIT_FEED) and b.metrics.value("reports_dropped_total", reason="superseded") == 2

    co_signed(b_box, 3, 4)
    assert b.recover() == 1  # still next: sent with the signatures it was recorded with
    (signers,) = report_signers(network)[-1:]
    assert signers == [o.address for o in OPERATORS[1:]]
    assert b.sync(applied) == 2 and b_box.confirmed_values(CREDIT_FEED) == report(1)[1] | report(3)[1] | report(4)[1]


def test_the_roster_follows_operators_added_and_removed(network):
    """A co-signer reads who is an operator again only when the gateway's events name someone or its
    operator count moved: every addition and removal is seen on the next read (also after a read that
    failed half-way), and a read with nothing new costs one state call."""
    from backend.core.chain import send
    from backend.core.dev_accounts import dev_account
    from oracles.cosign import OperatorRoster

    w3, manifest = network.w3, network.manifest
    gateway = manifest.contract(w3, "OracleGateway")
    roster = OperatorRoster(w3, manifest, CREDIT_FEED)
    assert roster.current().operators == tuple(a.address for a in OPERATORS)
    newcomer = Account.from_key(Web3.keccak(text="a fourth operator")).address

    def manage(call):
        send(w3, dev_account(0), call, decoder=manifest.revert_decoder(), what="managing operators")

    manage(gateway.functions.addOperator(CREDIT_FEED, newcomer))
    assert roster.current().operators == tuple(
        sorted([*(a.address for a in OPERATORS), newcomer], key=lambda a: int(a, 16))
    )
    manage(gateway.functions.removeOperator(CREDIT_FEED, OPERATORS[0].address))
    expected = tuple(sorted([*(a.address for a in OPERATORS[1:]), newcomer], key=lambda a: int(a, 16)))
    assert roster.current().operators == expected
    calls, call = [], w3.eth.call
    w3.eth.call = lambda *a, **k: calls.append(a) or call(*a, **k)
    assert roster.current().operators == expected and len(calls) == 1  # the operator count alone

    def dropped(*a, **k):
        raise ConnectionError("the node dropped the call")

    manage(gateway.functions.removeOperator(CREDIT_FEED, newcomer))
    w3.eth.call = dropped  # the removal's event is read, the state reads after it fail
    with pytest.raises(ConnectionError):
        roster.current()
    w3.eth.call = call
    assert newcomer not in roster.current()  # the event is not lost with the failed read


def test_a_halted_leader_ends_its_round_at_once(network):
    """A daemon that is stopping halts its co-signer: the round it leads ends at once without its
    quorum (the next leader publishes), rather than hold the shutdown to the end of the slot, and no
    further round starts."""
    from oracles.cosign import CoSigner, NoQuorum, Verdict
    from oracles.metrics import OracleMetrics

    rounds = 600.0  # a round left alone would wait until the slot's end
    operators = OperatorSet.read(network.w3, network.manifest, CREDIT_FEED)
    leader = next(a for a in OPERATORS if a.address == operators.leader(slot(time.time(), rounds)))
    cosigner = CoSigner(
        network.w3,
        network.manifest,
        leader,
        CREDIT_FEED,
        network.base / "halting.sqlite",
        lambda proposal: Verdict(True),
        round_seconds=rounds,
        metrics=OracleMetrics("halting"),
    )
    now = network.w3.eth.get_block("latest")["timestamp"]
    payload = credit_payload(bytes(32), bytes(32), [pack_credit_word(leader.address, 1, 1, 1)])

    async def scenario():
        host, _, port = network.broker.rpartition(":")
        await cosigner.start(host, int(port))
        try:
            stop = asyncio.Event()
            halting = asyncio.create_task(cosigner.halt_when(stop))
            gather = asyncio.create_task(cosigner.gather(1, now, payload, credit_items(payload), floor_as_of=0))
            await asyncio.sleep(0.5)
            assert not gather.done()  # waiting for endorsements nobody sends
            started = time.monotonic()
            stop.set()
            with pytest.raises(NoQuorum):
                await asyncio.wait_for(gather, 5)
            assert time.monotonic() - started < 2
            await halting
            with pytest.raises(NoQuorum, match="stopping"):
                await cosigner.gather(1, now, payload, credit_items(payload), floor_as_of=0)
        finally:
            await cosigner.stop()

    asyncio.run(scenario())
