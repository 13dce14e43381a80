"""The bank's register of participants, as its registrars use it from Python (the CLI and the demo)."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.core.chain import send
from backend.core.consent_types import merchant_id_hash
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
