"""Gas of the equipment lease's operations (an offer on a new rent schedule, which stores it, and on
one already in use: a lessor's rate card), and per lease of a usage report through the gateway in
batches of 1, 10 and 100, next to the storage floor (5,000: one warm-up of a period's packed slot,
cold SLOAD 2,100 + SSTORE 2,900) and a bare OpenZeppelin ERC-721 mint measured in the same run.

    python -m bench.lease_gas
"""

from __future__ import annotations

from backend.core.build import load_artifacts
from backend.core.chain import send
from backend.core.codec import lease_payload, pack_lease_word
from backend.core.dev_accounts import dev_account
from backend.core.feeds import IOT_FEED
from backend.demo.seeding import BANK, LESSEE, LESSOR, seed
from backend.services.leasing import DEMO_TERMS, LeaseService
from bench._harness import private_chain, write_results
from oracles.gateway import ReportDomain, sign_report, submit_report

FLOOR = 5_000
OPERATOR = dev_account(8)


def main() -> None:
    rows = []
    with private_chain() as (settings, w3, manifest):
        seed(w3, manifest)
        decoder = manifest.revert_decoder()
        artifact = load_artifacts(settings)["ReferenceERC721"]
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        reference = w3.eth.contract(
            address=send(w3, BANK, factory.constructor(), decoder=decoder)["contractAddress"], abi=artifact.abi
        )
        mint = send(w3, BANK, reference.functions.mint(LESSOR.address, 1), decoder=decoder)["gasUsed"]
        rows.append({"operation": "reference ERC-721 mint", "gas": mint, "vs reference mint": 1.0})

        service = LeaseService(w3, manifest)
        lease = service.contract
        terms = DEMO_TERMS.__class__(**{**DEMO_TERMS.__dict__, "deposit": 10**6})

        def measure(label, account, call):
            gas = send(w3, account, call, decoder=decoder)["gasUsed"]
            rows.append({"operation": label, "gas": gas, "vs reference mint": round(gas / mint, 3)})

        token = manifest.contract(w3, "SettlementToken")
        send(w3, LESSEE, token.functions.approve(lease.address, 2**255), decoder=decoder)
        tiers = [list(t) for t in terms.tiers]
        as_tuple = (terms.period_seconds, terms.periods, terms.deposit, terms.minimum_rent)
        # The contract's first offer also turns its lease counter from zero (a one-off 17,100): not measured.
        # A schedule is stored once, by the first offer on it (a lessor's rate card): measured both ways.
        service.offer(LESSOR, LESSEE.address, "GAS-FIRST", terms)
        fresh = [[hours, price - 1] for hours, price in tiers]
        for label, device, schedule in (("a new schedule", "GAS-N", fresh), ("a schedule in use", "GAS-0", tiers)):
            call = lease.functions.offer(LESSEE.address, device, as_tuple, schedule)
            measure(f"offer (3 tiers), {label}", LESSOR, call)
        measured = lease.functions.leaseCount().call() - 1
        measure("accept (pays the deposit)", LESSEE, lease.functions.accept(measured))

        domain = ReportDomain.of(manifest)
        sequence = 0
        for size in (1, 10, 100):
            ids = []
            for i in range(size):
                lease_id = service.offer(LESSOR, LESSEE.address, f"GAS-{size}-{i}", terms)
                send(w3, LESSEE, lease.functions.accept(lease_id), decoder=decoder)
                ids.append(lease_id)
            for label, hours in (("first usage of a period", 100), ("usage again", 250)):
                sequence += 1
                as_of = w3.eth.get_block("latest")["timestamp"]
                payload = lease_payload(pack_lease_word(i, 0, hours) for i in ids)
                signatures = sign_report(domain, IOT_FEED, sequence, as_of, payload, [OPERATOR])
                gas = submit_report(w3, manifest, BANK, IOT_FEED, sequence, as_of, payload, signatures)["gasUsed"]
                rows.append(
                    {
                        "operation": f"usage report, {label}, batch of {size}",
                        "gas": gas,
                        "per lease": round(gas / size),
                        "vs floor": round(gas / size / FLOOR, 3),
                    }
                )

        w3.provider.make_request("evm_increaseTime", [terms.period_seconds + 86_400 + 1])
        w3.provider.make_request("evm_mine", [])
        measure("bill one period", BANK, lease.functions.bill(measured))
        rent = lease.functions.outstanding(measured).call()
        measure("pay a period's rent", LESSEE, lease.functions.payRent(measured, rent))
    write_results("lease_gas", rows, ["operation", "gas", "vs reference mint", "per lease", "vs floor"])


if __name__ == "__main__":
    main()
