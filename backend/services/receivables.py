"""Receivables financing as operations: the one place the CLI, the API and the demo go through.

Every write is a transaction signed by the caller's own account; reads come from the chain (live
state) and its logs (who ever held what).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from backend.core.chain import call, call_named, events_in, send
from backend.core.enums import ReceivableStatus, Refusal
from backend.core.errors import ConfigError
from backend.core.manifest import Manifest


@dataclass(frozen=True)
class ReceivableView:
    id: int
    debtor: str
    holder: str | None  # None once split (the parent token is burned)
    amount: int
    repaid: int
    due_date: int
    status: str
    financed: bool
    invoice_hash: str
    parent: int | None
    parts: list[int]

    @property
    def outstanding(self) -> int:
        return self.amount - self.repaid


@dataclass(frozen=True)
class FinancingOutcome:
    approved: bool
    reason: str  # "None" when approved
    advance: int  # paid to the applicant; 0 when refused
    receipt: TxReceipt
    discount: int = 0  # kept by the pool: interest to maturity on the advanced share
    fee: int = 0  # the bank's one-off fee


class ReceivablesService:
    def __init__(self, w3: Web3, manifest: Manifest) -> None:
        self.w3 = w3
        self.manifest = manifest
        self.contract = manifest.contract(w3, "Receivables")
        self.token = manifest.contract(w3, "SettlementToken")
        self._decoder = manifest.revert_decoder()

    def _send(self, signer: LocalAccount, call, what: str) -> TxReceipt:
        return send(self.w3, signer, call, decoder=self._decoder, what=what)

    def _events(self, receipt: TxReceipt, name: str):
        """The receipt's `name` events of this contract (a receipt also holds the token's and the pool's)."""
        return events_in(receipt, self.contract, name)

    # --- writes -------------------------------------------------------------------------------

    def issue(
        self,
        debtor: LocalAccount,
        supplier: str,
        amount: int,
        due: dt.datetime | int,
        invoice_hash: bytes,
        ref: str,
    ) -> int:
        """The debtor issues `amount` units due at `due` to `supplier`; the new id."""
        due_ts = int(due.timestamp()) if isinstance(due, dt.datetime) else int(due)
        call = self.contract.functions.issue(_address(supplier), amount, due_ts, invoice_hash, _ref32(ref))
        receipt = self._send(debtor, call, f"issuing receivable {ref!r}")
        return self._events(receipt, "ReceivableIssued")[0]["args"]["id"]

    def split(self, holder: LocalAccount, rid: int, parts: list[tuple[str, int]]) -> list[int]:
        """The holder splits `rid` into (recipient, amount) parts; the new ids in order."""
        holders = [_address(h) for h, _ in parts]
        amounts = [a for _, a in parts]
        receipt = self._send(holder, self.contract.functions.split(rid, amounts, holders), f"splitting #{rid}")
        return [e["args"]["id"] for e in self._events(receipt, "ReceivablePartCreated")]

    def transfer(self, holder: LocalAccount, rid: int, to: str) -> TxReceipt:
        call = self.contract.functions.transferFrom(holder.address, _address(to), rid)
        return self._send(holder, call, f"transferring #{rid}")

    def finance(self, holder: LocalAccount, rid: int) -> FinancingOutcome:
        """Apply for financing; approval pays the advance in the same transaction."""
        receipt = self._send(holder, self.contract.functions.applyForFinancing(rid), f"financing #{rid}")
        if financed := self._events(receipt, "ReceivableFinanced"):
            a = financed[0]["args"]
            return FinancingOutcome(True, Refusal.NONE.label, a["advance"], receipt, a["discount"], a["fee"])
        refused = self._events(receipt, "FinancingRefused")[0]["args"]["reason"]
        return FinancingOutcome(False, Refusal(refused).label, 0, receipt)

    def repay(self, debtor: LocalAccount, rid: int, amount: int) -> TxReceipt:
        """The debtor repays `amount` of `rid`, approving the contract first if it must."""
        allowance = self.token.functions.allowance(debtor.address, self.contract.address).call()
        if allowance < amount:
            self._send(debtor, self.token.functions.approve(self.contract.address, amount), "approving repayment")
        return self._send(debtor, self.contract.functions.repay(rid, amount), f"repaying #{rid}")

    def mark_default(self, caller: LocalAccount, rid: int) -> TxReceipt:
        return self._send(caller, self.contract.functions.markDefaulted(rid), f"marking #{rid} defaulted")

    def record_recovery(self, bank: LocalAccount, rid: int, recovered: int) -> TxReceipt:
        """The bank records what came back of defaulted `rid` off chain; the default is cured."""
        call_ = self.contract.functions.recordRecovery(rid, recovered)
        return self._send(bank, call_, f"recording the recovery of #{rid}")

    def set_debtor_terms(
        self,
        bank: LocalAccount,
        debtor: str,
        limit: int,
        rate_bps: int,
        advance_rate_bps: int = 10_000,
        fee_bps: int = 0,
    ) -> TxReceipt:
        """The bank's factoring terms for a debtor: exposure limit (units), annual discount rate, advance
        rate (the share advanced: 10,000 less the haircut) and one-off fee, in basis points."""
        call_ = self.contract.functions.setDebtorTerms(_address(debtor), limit, rate_bps, advance_rate_bps, fee_bps)
        return self._send(bank, call_, f"setting terms for {debtor}")

    # --- reads --------------------------------------------------------------------------------

    def show(self, rid: int) -> ReceivableView:
        r = call(self.contract.functions.receivable(rid), decoder=self._decoder, what=f"reading #{rid}")
        holder = call_named(self.contract.functions.receivables(rid)).creditor
        lineage = call_named(self.contract.functions.lineage(rid))
        return ReceivableView(
            id=rid,
            debtor=r.debtor,
            holder=None if int(holder, 16) == 0 else holder,
            amount=r.amount,
            repaid=r.repaid,
            due_date=r.dueDate,
            status=ReceivableStatus(r.status).label,
            financed=r.financed,
            invoice_hash="0x" + r.invoiceHash.hex(),
            parent=lineage.parentId if lineage.isPart else None,
            parts=list(range(lineage.firstPart, lineage.firstPart + lineage.partCount)),
        )

    def list_by_participant(self, account: str) -> list[ReceivableView]:
        """Every receivable `account` owes, holds, or ever held, newest state from the chain."""
        account = _address(account)
        start = self.manifest.record("Receivables").block
        events = self.contract.events
        ids = {
            e["args"]["id"]
            for e in events.ReceivableIssued().get_logs(from_block=start, argument_filters={"debtor": account})
        }
        ids |= {
            e["args"]["tokenId"] for e in events.Transfer().get_logs(from_block=start, argument_filters={"to": account})
        }
        return [self.show(rid) for rid in sorted(ids)]


def _address(value: str) -> str:
    if not Web3.is_address(value):
        raise ConfigError(f"not an address: {value!r}")
    return Web3.to_checksum_address(value)


def _ref32(ref: str) -> bytes:
    raw = ref.encode()
    if not raw or len(raw) > 32:
        raise ConfigError(f"reference must be 1 to 32 bytes, got {len(raw)}: {ref!r}")
    return raw.ljust(32, b"\x00")
