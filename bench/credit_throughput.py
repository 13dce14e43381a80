"""Credit scoring throughput and the wall time to put a whole book's changed limits on chain.

    python -m bench.credit_throughput [--merchants 100000]

Rows: scores per second (features → xgboost → policy) next to the article's RandomForest scoring
the same features in the same run; consent verifications per second (EIP-712 recover); and the wall
time for all merchants scored and every changed line pushed through the gateway in batches of 100
(the daemon's publishing path: outbox, signing, submitting, confirming) on a private anvil.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from eth_account import Account
from sklearn.ensemble import RandomForestClassifier
from web3 import Web3

from backend.core.codec import credit_payload, pack_credit_word, unpack_credit_word
from backend.core.dev_accounts import dev_account
from backend.core.feeds import CREDIT_FEED
from bench._harness import private_chain, write_results
from oracles.credit import train
from oracles.credit.consent import Consent, sign, verify
from oracles.credit.features import merchant_features
from oracles.credit.model import CreditModel
from oracles.credit.policy import Policy
from oracles.credit.scoring import decide
from oracles.credit.synthetic import generate
from oracles.gateway import ReportPublisher
from oracles.outbox import Outbox

BATCH = 100
CONSENT_SAMPLE = 500


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
    write_results("credit_throughput", rows, ["measure", "value", "reference", "ratio"])


if __name__ == "__main__":
    main()
