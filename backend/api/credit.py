"""Credit lines: the list folded from the index; one line live (interest to this second) with the
credit oracle's reasons for its score; the EIP-712 definition of the consent a merchant signs."""

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.context import ctx
from backend.api.schemas import Page, PageArgs, checked_address, page_of
from backend.core import consent_types
from backend.core.enums import LineStatus
from backend.index import views
from backend.index.store import EventFilter

blp = Blueprint("credit", __name__, url_prefix="/api/credit-lines", description="Revolving credit")


@blp.route("")
class CreditLines(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, Page)
    def get(self, args):
        """Every merchant line the credit oracle has set, as the index has them."""
        return page_of(ctx().view(views.credit_lines), args)


@blp.route("/consent")
class ConsentDefinition(MethodView):
    @blp.response(200)
    def get(self):
        """The EIP-712 typed data a merchant signs in its wallet to consent to credit scoring, all but
        the message: ``primaryType``, ``domain`` (for this chain), ``types`` and the ``scope`` the
        credit oracle accepts. The API signs nothing; the merchant's wallet does."""
        manifest = ctx().manifest
        return consent_types.definition(manifest.chain_id, manifest.record("CreditLine").address)


@blp.route("/<address>")
class CreditLine(MethodView):
    @blp.response(200)
    def get(self, address):
        """One merchant's line now, its history, and the reasons the oracle gave for its score."""
        merchant = checked_address(address)
        c = ctx()
        credit_line = c.manifest.contract(c.w3, "CreditLine").functions
        line = credit_line.lineOf(merchant).call()
        bound = c.manifest.contract(c.w3, "ParticipantRegistry").functions.merchantIdHashOf(merchant).call()
        history = c.index().query(EventFilter(contract="CreditLine", party=merchant))
        reasons = c.credit_reasons().get(merchant.lower())
        return {
            "merchant": merchant,
            "limit": line.limit,
            "score": line.score,
            "rate_bps": line.rateBps,
            "scored_at": line.scoredAt,
            "status": LineStatus(line.status).label,
            "pending_limit": line.pendingLimit,
            "drawn": line.drawn,
            "interest": line.interest,
            "available": max(line.limit - line.drawn, 0),
            "reasons": reasons,
            "consent_nonce": credit_line.consentNonce(merchant).call(),  # the nonce a new consent must carry
            # keccak256 of the merchant id the bank bound to this wallet (null: none); a consent must name it
            "merchant_id_hash": "0x" + bytes(bound).hex() if any(bound) else None,
            "history": [e.to_json() for e in history],
        }
