"""Gas of every receivables operation on a real anvil, next to a bare OpenZeppelin ERC-721 mint
measured in the same run.

Targets (issue 3): issuing ≤ 1.3 × the reference mint + the storage slots its data truly needs
(3 for the packed record + 1 for the debtor's reference = 4 × 22,100); financing ≤ 150,000.

    python -m bench.gas
"""

from __future__ import annotations

from web3 import Web3

from backend.core.build import load_artifacts
from backend.core.chain import send
from backend.core.dev_accounts import dev_account
from backend.core.money import UNIT
from backend.demo.seeding import seed
from backend.services.pool import deposit
from backend.services.receivables import ReceivablesService
from bench._harness import private_chain, write_results

NEW_SLOT = 22_100  # SSTORE of a zero slot to non-zero, cold (EIP-2929 + EIP-2200)
ISSUE_SLOTS = 4
FINANCE_TARGET = 150_000
DAY = 24 * 3600

BANK, CORE, TIER1, TIER2, TIER3 = (dev_account(i) for i in range(5))
FRESH_HOLDER, SECOND_HOLDER = dev_account(8).address, dev_account(9).address


def main() -> None:
    with private_chain() as (settings, w3, manifest):
        seed(w3, manifest)
        artifact = load_artifacts(settings)["ReferenceERC721"]
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        reference = w3.eth.contract(address=send(w3, BANK, factory.constructor())["contractAddress"], abi=artifact.abi)
        service = ReceivablesService(w3, manifest)
        gas = {}

        def measure(name, receipt):
            gas[name] = receipt["gasUsed"]

        measure("reference mint (new holder)", send(w3, BANK, reference.functions.mint(FRESH_HOLDER, 1)))
        measure("reference mint (holder has one)", send(w3, BANK, reference.functions.mint(FRESH_HOLDER, 2)))

        now = w3.eth.get_block("latest")["timestamp"]
        invoice = Web3.keccak(text="invoice")
        contract = service.contract
        # Steady state: the id counter is already non-zero (only the very first issue ever pays to
        # create it), as the reference's id, passed in, costs it nothing.
        send(
            w3,
            CORE,
            contract.functions.issue(TIER3.address, 1 * UNIT, now + 90 * DAY, invoice, b"PO-0".ljust(32, b"\0")),
        )
        measure(
            "issue (new holder)",
            send(
                w3,
                CORE,
                contract.functions.issue(
                    TIER1.address, 1_000 * UNIT, now + 90 * DAY, invoice, b"PO-1".ljust(32, b"\0")
                ),
            ),
        )
        measure(
            "issue (holder has one)",
            send(
                w3,
                CORE,
                contract.functions.issue(
                    TIER1.address, 1_000 * UNIT, now + 90 * DAY, invoice, b"PO-2".ljust(32, b"\0")
                ),
            ),
        )
        measure(
            "createReceivable (article's call)",
            send(w3, CORE, contract.functions.createReceivable(TIER1.address, 500 * UNIT, now + 60 * DAY)),
        )
        measure(
            "split into 2",
            send(w3, TIER1, contract.functions.split(1, [600 * UNIT, 400 * UNIT], [TIER1.address, TIER2.address])),
        )
        measure(
            "split into 3",
            send(
                w3,
                TIER1,
                contract.functions.split(
                    2, [500 * UNIT, 300 * UNIT, 200 * UNIT], [TIER1.address, TIER2.address, TIER3.address]
                ),
            ),
        )
        measure("transfer", send(w3, TIER2, contract.functions.transferFrom(TIER2.address, TIER3.address, 5)))

        deposit(w3, manifest, BANK, 100_000 * UNIT)
        service.set_debtor_terms(BANK, CORE.address, 2_000 * UNIT, 600)
        measure("applyForFinancing (approved)", send(w3, TIER1, contract.functions.applyForFinancing(4)))
        service.set_debtor_terms(BANK, CORE.address, 700 * UNIT, 600)  # 600 financed: 200 more is over
        refused = send(w3, TIER3, contract.functions.applyForFinancing(8))
        assert contract.events.FinancingRefused().process_receipt(refused), "expected a refusal"
        measure("applyForFinancing (refused, limit)", refused)
        service.set_debtor_terms(BANK, CORE.address, 20_000 * UNIT, 600)
        token = manifest.contract(w3, "SettlementToken")
        send(w3, CORE, token.functions.approve(contract.address, 2**256 - 1))
        measure("repay part (to the pool)", send(w3, CORE, contract.functions.repay(4, 100 * UNIT)))
        measure("repay rest (settles)", send(w3, CORE, contract.functions.repay(4, 500 * UNIT)))
        measure("repay in full (to a supplier)", send(w3, CORE, contract.functions.repay(6, 500 * UNIT)))
        w3.provider.make_request("evm_increaseTime", [100 * DAY + settings.grace_period])
        w3.provider.make_request("evm_mine", [])
        measure("markDefaulted", send(w3, TIER2, contract.functions.markDefaulted(7)))

    mint_new, mint_again = gas["reference mint (new holder)"], gas["reference mint (holder has one)"]
    targets = {
        "issue (new holder)": 1.3 * mint_new + ISSUE_SLOTS * NEW_SLOT,
        "issue (holder has one)": 1.3 * mint_again + ISSUE_SLOTS * NEW_SLOT,
        "applyForFinancing (approved)": FINANCE_TARGET,
    }
    rows = []
    for name, used in gas.items():
        row = {"operation": name, "gas": used, "vs reference mint": round(used / mint_new, 3)}
        if name in targets:
            row["target"] = int(targets[name])
            row["of target"] = round(used / targets[name], 3)
        rows.append(row)
    write_results("gas", rows, ["operation", "gas", "vs reference mint", "target", "of target"])


if __name__ == "__main__":
    main()
