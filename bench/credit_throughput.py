"""Credit scoring throughput and the wall time to put a whole book's changed limits on chain.

    python -m bench.credit_throughput [--merchants 100000]

Rows: scores per second (features → xgboost → policy) next to the article's RandomForest scoring
the same features in the same run; consent verifications per second (EIP-712 recover); the wall
time for all merchants scored and every changed line pushed through the gateway in reports of 500
(the daemon's publishing path: outbox, signing, submitting, confirming) on a private anvil; and the
same through 2-of-3 co-signing (three operators on a private mosquitto: the leader proposes each
report, two followers each sync with the chain and check it against their own observation, the leader
submits with two signatures), next to the one-signer figure, with each stage's share of the time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from eth_account import Account
from sklearn.ensemble import RandomForestClassifier
from web3 import Web3

from backend.core.codec import credit_payload, pack_credit_word, unpack_credit_word
from backend.core.dev_accounts import dev_account
from backend.core.feeds import CREDIT_FEED
from backend.local.broker import LocalBroker
from bench._harness import free_port, private_chain, write_results
from oracles.cosign import CoSigner
from oracles.credit import train
from oracles.credit.agree import CreditObservation, ObservedLine, applied_items, check_credit, credit_items, merkle_root
from oracles.credit.consent import Consent, sign, verify
from oracles.credit.features import merchant_features
from oracles.credit.model import CreditModel
from oracles.credit.policy import Policy
from oracles.credit.scoring import decide
from oracles.credit.synthetic import generate
from oracles.gateway import ReportPublisher
from oracles.metrics import OracleMetrics
from oracles.outbox import Outbox

BATCH = 500  # merchants per report: the credit oracle's largest --batch-size
CONSENT_SAMPLE = 500
ROUND = 10**7  # one co-signing slot for the whole run: its leader publishes everything


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merchants", type=int, default=100_000)
    args = parser.parse_args(argv)
    n = args.merchants
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        training = Path(tmp) / "train.csv"
        generate(5_000, 12, seed=1).to_csv(training, index=False)
        data = train.load(training, "default_flag")
        train.save(train.train(data, progress=False), Path(tmp) / "model")
        model, policy = CreditModel.load(Path(tmp) / "model"), Policy.load()
        history = generate(n, 12, seed=2)

        start = time.perf_counter()
        decisions = decide(model, policy, history)
        scoring = time.perf_counter() - start
        rows.append(
            {
                "measure": "scores per second (xgboost + policy, with features)",
                "value": round(n / scoring),
                "reference": None,
                "ratio": None,
            }
        )

        features = merchant_features(history, "default_flag")
        encoded = features[data.features].fillna(0)
        forest = RandomForestClassifier(n_estimators=100, random_state=42, n_jobs=2).fit(
            encoded, features["default_flag"]
        )
        start = time.perf_counter()
        model.probability(features)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        forest.predict_proba(encoded)
        theirs = time.perf_counter() - start
        rows.append(
            {
                "measure": "model-only scores per second vs the article's RandomForest",
                "value": round(n / ours),
                "reference": round(n / theirs),
                "ratio": round(theirs / ours, 2),
            }
        )

        wallets = [Account.from_key(Web3.keccak(text=f"bench merchant {i}")) for i in range(CONSENT_SAMPLE)]
        now = int(time.time())
        credit_line = Web3.to_checksum_address(Web3.keccak(text="bench CreditLine")[-20:])
        consents = [
            Consent(w.address, f"M{i:06d}", now + 365 * 86_400, 0, 31337, credit_line) for i, w in enumerate(wallets)
        ]
        signatures = [sign(c, w) for c, w in zip(consents, wallets, strict=True)]
        start = time.perf_counter()
        for c, s in zip(consents, signatures, strict=True):
            verify(c, s, now=now, chain_id=31337, credit_line=credit_line, nonce=0)
        rows.append(
            {
                "measure": "consent verifications per second",
                "value": round(CONSENT_SAMPLE / (time.perf_counter() - start)),
                "reference": None,
                "ratio": None,
            }
        )

        with private_chain() as (_, w3, manifest):
            outbox = Outbox(Path(tmp) / "outbox.sqlite")
            publisher = ReportPublisher(w3, manifest, dev_account(7), outbox, CREDIT_FEED)
            as_of = publisher.chain_now()  # the data is made here: as of the chain's time, read once
            start = time.perf_counter()
            decisions = decide(model, policy, history)
            words = sorted(  # merchants ascending, as a report must carry them (a word's top bits)
                pack_credit_word(
                    Web3.to_checksum_address(Web3.keccak(text=d.merchant_id)[-20:]),
                    int(d.decision.limit),
                    d.decision.score,
                    d.decision.rate_bps,
                )
                for d in decisions
            )
            for i in range(0, len(words), BATCH):
                batch = words[i : i + BATCH]
                publisher.publish(
                    credit_payload(bytes.fromhex(model.sha256), bytes(32), batch),
                    {unpack_credit_word(w).merchant: hex(w) for w in batch},
                    as_of=as_of,
                )
            wall = time.perf_counter() - start
            outbox.close()
        rows.append(
            {
                "measure": f"wall seconds: {n:,} merchants scored and every line pushed ({-(-n // BATCH)} reports)",
                "value": round(wall, 1),
                "reference": None,
                "ratio": None,
            }
        )
    rows.append(_co_signed(model, policy, history, rows[-1]["value"]))
    write_results("credit_throughput", rows, ["measure", "value", "reference", "ratio", "shares"])


def _co_signed(model, policy, history, alone: float) -> dict:
    """Every line of `history` scored and on chain through 2-of-3 co-signing, with each stage's share."""
    operators = sorted(
        (Account.from_key(Web3.keccak(text=f"bench operator {i}")) for i in range(3)), key=lambda a: int(a.address, 16)
    )
    environ = {"YINQI_CREDIT_ORACLE_OPERATORS": ",".join(o.address for o in operators)}
    stages = dict.fromkeys(("scoring", "observing", "co-signing", "on chain"), 0.0)
    with (
        tempfile.TemporaryDirectory() as tmp,
        private_chain(environ, credit_oracle_quorum=2) as (_, w3, manifest),
        LocalBroker(Path(tmp) / "mosquitto", free_port()) as broker,
    ):
        for operator in operators:
            w3.provider.make_request("anvil_setBalance", [operator.address, hex(10**21)])
        credit_line = manifest.contract(w3, "CreditLine")
        observation: list[CreditObservation | None] = [None]
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        signers = []
        for i, operator in enumerate(operators):
            state = Path(tmp) / f"op{i}.sqlite"
            own = ReportPublisher(w3, manifest, operator, Outbox(state), CREDIT_FEED, cosigner=_Unused())

            def check(proposal, own=own):  # a follower: sync with the chain, then its own observation
                own.sync(partial(applied_items, credit_line))
                return check_credit(observation[0], proposal, *own.outbox.confirmed_of(CREDIT_FEED, proposal.items))

            signer = CoSigner(
                w3, manifest, operator, CREDIT_FEED, state, check, round_seconds=ROUND, metrics=OracleMetrics("bench")
            )
            asyncio.run_coroutine_threadsafe(signer.start(broker.host, broker.port), loop).result(30)
            signers.append(signer)
        leader = next(s for s in signers if s.leads_now())
        outbox = Outbox(Path(tmp) / "leader.sqlite")
        publisher = ReportPublisher(w3, manifest, leader.signer, outbox, CREDIT_FEED, cosigner=_Timed(leader, stages))
        as_of = publisher.chain_now()
        start = time.perf_counter()
        decisions = decide(model, policy, history)
        stages["scoring"] = time.perf_counter() - start
        lines = []  # (address as a number, address, word), merchants ascending as a report carries them
        for d in decisions:
            address = Web3.to_checksum_address(Web3.keccak(text=d.merchant_id)[-20:])
            word = pack_credit_word(address, int(d.decision.limit), d.decision.score, d.decision.rate_bps)
            lines.append((int(address, 16), address, word))
        lines.sort()
        observation[0] = CreditObservation(
            bytes.fromhex(model.sha256),
            {address: ObservedLine(word, Web3.keccak(hexstr=address), as_of) for _, address, word in lines},
            time.monotonic(),
        )
        stages["observing"] = time.perf_counter() - start - stages["scoring"]
        for i in range(0, len(lines), BATCH):
            batch = lines[i : i + BATCH]
            root = merkle_root([Web3.keccak(hexstr=address) for _, address, _ in batch])
            payload = credit_payload(bytes.fromhex(model.sha256), root, [word for _, _, word in batch])
            publisher.publish(payload, credit_items(payload), as_of=as_of)
        wall = time.perf_counter() - start
        stages["on chain"] = wall - stages["scoring"] - stages["observing"] - stages["co-signing"]
        for signer in signers:
            asyncio.run_coroutine_threadsafe(signer.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        outbox.close()
    n = len(history["merchant_id"].unique())
    return {
        "measure": f"wall seconds: {n:,} merchants scored and every line on chain, co-signed 2-of-3 (vs one signer)",
        "value": round(wall, 1),
        "reference": alone,
        "ratio": round(wall / alone, 2),
        "shares": {stage: round(seconds / wall, 3) for stage, seconds in stages.items()},
    }


class _Unused:
    """A follower's publisher never gathers: it only syncs."""

    def gather_blocking(self, *args, **kw):
        raise AssertionError("a follower does not lead")


class _Timed:
    """The leader's co-signer, timed."""

    def __init__(self, cosigner: CoSigner, stages: dict[str, float]) -> None:
        self.cosigner, self.stages = cosigner, stages

    def gather_blocking(self, *args, **kw):
        start = time.perf_counter()
        try:
            return self.cosigner.gather_blocking(*args, **kw)
        finally:
            self.stages["co-signing"] += time.perf_counter() - start


if __name__ == "__main__":
    main()
