"""Gas per merchant of a credit-score update through the gateway, in batches of 1, 10 and 100, next
to the storage floor: rewriting one packed slot of an existing line costs 5,000 (cold SLOAD 2,100 +
SSTORE 2,900). Target (issue 4): ≤ 1.5 × that floor per merchant inside a batch of 100.

    python -m bench.credit_gas
"""

from __future__ import annotations

from web3 import Web3

from backend.core.codec import credit_payload, pack_credit_word
from backend.core.dev_accounts import dev_account
from backend.core.feeds import CREDIT_FEED
from bench._harness import private_chain, write_results
from oracles.gateway import ReportDomain, sign_report, submit_report

FLOOR = 5_000
TARGET = 1.5 * FLOOR
OPERATOR, RELAYER = dev_account(7), dev_account(0)
MODEL, ROOT = b"\x11" * 32, b"\x22" * 32


def main() -> None:
    rows = []
    with private_chain() as (_, w3, manifest):
        domain = ReportDomain.of(manifest)
        sequence = 0
        for size in (1, 10, 100):
            addresses = (Web3.to_checksum_address(Web3.keccak(text=f"merchant {size} {i}")[-20:]) for i in range(size))
            merchants = sorted(addresses, key=lambda a: int(a, 16))  # a report names merchants ascending
            for label, score in (("new lines", 700), ("existing lines", 710)):
                sequence += 1
                as_of = w3.eth.get_block("latest")["timestamp"]
                payload = credit_payload(MODEL, ROOT, (pack_credit_word(m, 50_000, score, 900) for m in merchants))
                signatures = sign_report(domain, CREDIT_FEED, sequence, as_of, payload, [OPERATOR])
                receipt = submit_report(w3, manifest, RELAYER, CREDIT_FEED, sequence, as_of, payload, signatures)
                per_merchant = receipt["gasUsed"] / size
                row = {
                    "batch": size,
                    "update of": label,
                    "gas": receipt["gasUsed"],
                    "per merchant": round(per_merchant),
                }
                if label == "existing lines":
                    row["vs floor"] = round(per_merchant / FLOOR, 3)
                    row["of target"] = round(per_merchant / TARGET, 3)
                rows.append(row)
    write_results("credit_gas", rows, ["batch", "update of", "gas", "per merchant", "vs floor", "of target"])


if __name__ == "__main__":
    main()
