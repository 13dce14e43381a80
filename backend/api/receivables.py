"""Receivables: the list folded from the index, one receivable live from the chain with its history."""

from dataclasses import asdict

from flask import abort
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from backend.api.context import ctx
from backend.api.schemas import Page, PartyPageArgs, page_of
from backend.core.chain import call_named
from backend.core.enums import ReceivableStatus, Refusal
from backend.core.errors import TransactionFailed
from backend.index import views
from backend.index.store import EventFilter

blp = Blueprint("receivables", __name__, url_prefix="/api/receivables", description="Receivables financing")


class ReceivableArgs(PartyPageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf([s.label for s in ReceivableStatus if s]))


@blp.route("")
class Receivables(MethodView):
    @blp.arguments(ReceivableArgs, location="query")
    @blp.response(200, Page)
    def get(self, args):
        """Every receivable (or those `party` owes or holds), as the index has them."""
        rows = ctx().view(views.receivables, args["party"])
        if args["status"]:
            rows = [r for r in rows if r["status"] == args["status"]]
        return page_of(rows, args)


@blp.route("/<int:rid>")
class Receivable(MethodView):
    @blp.response(200)
    def get(self, rid):
        """One receivable as the chain has it now, with every event about it."""
        c = ctx()
        try:
            view = c.receivables.show(rid)
        except TransactionFailed:
            abort(404, f"no receivable #{rid}")
        history = c.index().query(EventFilter(contract="Receivables", subject=str(rid)))
        quote = None
        if view.status == ReceivableStatus.ACTIVE.label:  # what financing would pay now, or why it would be refused
            q = call_named(c.receivables.contract.functions.quote(rid))
            terms = c.receivables.contract.functions.debtorTerms(view.debtor).call()
            quote = {
                "refusal": Refusal(q.reason).label,
                "advance": q.price.advance,
                "discount": q.price.discount,
                "fee": q.price.fee,
                "rate_bps": terms.rateBps,
                "advance_rate_bps": terms.advanceRateBps,
                "fee_bps": terms.feeBps,
            }
        return {
            **asdict(view),
            "outstanding": view.outstanding,
            "quote": quote,
            "history": [e.to_json() for e in history],
        }
