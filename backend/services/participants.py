"""The bank's register of participants, as its registrars use it from Python (the CLI and the demo)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from backend.core.chain import send
from backend.core.consent_types import merchant_id_hash
from backend.core.enums import Role
from backend.core.errors import ConfigError
from backend.core.manifest import Manifest


def bind_merchant_id(w3: Web3, manifest: Manifest, registrar: LocalAccount, merchant: str, merchant_id: str) -> None:
    """Bind the onboarded merchant `merchant` to `merchant_id`, the id under which the data platform
    knows it (the credit oracle scores a wallet only under the id bound to it); unless already bound."""
    registry = manifest.contract(w3, "ParticipantRegistry")
    wanted = merchant_id_hash(merchant_id)
    if bytes(registry.functions.merchantIdHashOf(merchant).call()) == wanted:
        return
    send(
        w3,
        registrar,
        registry.functions.bindMerchantId(merchant, wanted),
        decoder=manifest.revert_decoder(),
        what=f"binding {merchant} to merchant id {merchant_id!r}",
        chain_id=manifest.chain_id,
    )


@dataclass(frozen=True)
class ParticipantView:
    address: str
    name: str  # as given at onboarding (the registry's event)
    roles: Role
    suspended: bool
    onboarded_at: int
    kyc_hash: bytes


def _send(w3: Web3, manifest: Manifest, registrar: LocalAccount, call, what: str) -> TxReceipt:
    return send(w3, registrar, call, decoder=manifest.revert_decoder(), what=what, chain_id=manifest.chain_id)


def onboard(
    w3: Web3, manifest: Manifest, registrar: LocalAccount, account: str, roles: Role, name: str, kyc_hash: bytes
) -> TxReceipt:
    """Admit `account` in `roles` under `name`, with the hash of its KYC dossier (kept off chain)."""
    registry = manifest.contract(w3, "ParticipantRegistry")
    call = registry.functions.onboard(account, int(roles), kyc_hash, name)
    return _send(w3, manifest, registrar, call, f"onboarding {name}")


def set_roles(w3: Web3, manifest: Manifest, registrar: LocalAccount, account: str, roles: Role) -> TxReceipt:
    registry = manifest.contract(w3, "ParticipantRegistry")
    return _send(
        w3, manifest, registrar, registry.functions.setRoles(account, int(roles)), f"setting roles of {account}"
    )


def suspend(w3: Web3, manifest: Manifest, registrar: LocalAccount, account: str, reason: str) -> TxReceipt:
    """Stop `account` from acting in any product until reinstated; `reason` (≤ 32 bytes) goes on chain."""
    encoded = reason.encode()
    if len(encoded) > 32:
        raise ConfigError(f"a suspension reason is at most 32 bytes on chain; {reason!r} is {len(encoded)}")
    registry = manifest.contract(w3, "ParticipantRegistry")
    call = registry.functions.suspend(account, encoded.ljust(32, b"\0"))
    return _send(w3, manifest, registrar, call, f"suspending {account}")


def reinstate(w3: Web3, manifest: Manifest, registrar: LocalAccount, account: str) -> TxReceipt:
    registry = manifest.contract(w3, "ParticipantRegistry")
    return _send(w3, manifest, registrar, registry.functions.reinstate(account), f"reinstating {account}")


def participants(w3: Web3, manifest: Manifest) -> list[ParticipantView]:
    """Everyone onboarded, in onboarding order, with the name each was onboarded under."""
    registry = manifest.contract(w3, "ParticipantRegistry")
    logs = registry.events.ParticipantOnboarded().get_logs(from_block=manifest.record("ParticipantRegistry").block)
    names = {log["args"]["account"]: log["args"]["name"] for log in logs}
    return [
        _view(registry, address, names.get(address, ""))
        for address in (
            registry.functions.participantAt(i).call() for i in range(registry.functions.participantCount().call())
        )
    ]


def participant(w3: Web3, manifest: Manifest, account: str) -> ParticipantView | None:
    """One participant (a checksum address) as :func:`participants` has it, or None if not onboarded."""
    registry = manifest.contract(w3, "ParticipantRegistry")
    logs = registry.events.ParticipantOnboarded().get_logs(
        from_block=manifest.record("ParticipantRegistry").block, argument_filters={"account": account}
    )
    return _view(registry, account, logs[-1]["args"]["name"]) if logs else None


def _view(registry, address: str, name: str) -> ParticipantView:
    p = registry.functions.participant(address).call()
    return ParticipantView(address, name, Role(p.roles), p.suspended, p.onboardedAt, bytes(p.kycHash))
