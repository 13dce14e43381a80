"""Audit: every indexed event, filterable by contract, event, subject (a receivable or lease id, a
merchant) or participant, and block range; as JSON pages or one CSV download."""

import csv
import io
import json

from flask import Response, abort
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from backend.api.context import ctx
from backend.api.schemas import Page, PageArgs
from backend.index.store import EventFilter

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="Audit trail")
CONTRACTS = (
    "SettlementToken",
    "ParticipantRegistry",
    "FinancingPool",
    "Receivables",
    "OracleGateway",
    "CreditLine",
    "EquipmentLease",
)


class AuditArgs(PageArgs):
    """Filters as a person types them: the event name in any case, a subject as ``6`` or ``#6``, a
    participant by a part of its address (``0x9fe4`` or ``a6e0``, at least 4 hex digits)."""

    contract = fields.String(load_default=None, validate=validate.OneOf(CONTRACTS))
    event = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z]{1,64}$"))
    subject = fields.String(load_default=None, validate=validate.Length(min=1, max=66))
    party = fields.String(load_default=None, validate=validate.Regexp(r"^(0x)?[0-9A-Fa-f]{4,40}$"))
    from_block = fields.Integer(load_default=None, validate=validate.Range(min=0))
    to_block = fields.Integer(load_default=None, validate=validate.Range(min=0))
    order = fields.String(load_default="newest", validate=validate.OneOf(("newest", "oldest")))


def _event_names(typed: str) -> tuple[str, ...]:
    """The events of the deployment's contracts named `typed`, whatever its case (one name may be several
    contracts' events); `typed` itself when none is (the filter then matches nothing)."""
    wanted = typed.lower()
    names = {
        item["name"]
        for record in ctx().manifest.contracts.values()
        for item in record.abi
        if item.get("type") == "event" and item["name"].lower() == wanted
    }
    return tuple(sorted(names)) or (typed,)


def _filter(args) -> EventFilter:
    if args["from_block"] is not None and args["to_block"] is not None and args["from_block"] > args["to_block"]:
        abort(400, "from_block is after to_block")
    subject = args["subject"].strip().removeprefix("#").strip().lower() if args["subject"] else None
    digits = args["party"].lower().removeprefix("0x") if args["party"] else None
    return EventFilter(
        contract=args["contract"],
        events=_event_names(args["event"]) if args["event"] else (),
        subject=subject or None,
        party=("0x" + digits if len(digits) == 40 else digits) if digits else None,
        party_part=digits is not None and len(digits) < 40,
        from_block=args["from_block"],
        to_block=args["to_block"],
    )


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, Page)
    def get(self, args):
        """Indexed events matching the filters, newest first (``order=oldest`` for the other way)."""
        store, where = ctx().index(), _filter(args)
        offset = (args["page"] - 1) * args["page_size"]
        items = store.query(where, limit=args["page_size"], offset=offset, newest_first=args["order"] == "newest")
        return {
            "items": [e.to_json() for e in items],
            "page": args["page"],
            "page_size": args["page_size"],
            "total": store.count(where),
        }


@blp.route("/events.csv")
class EventsCsv(MethodView):
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """The same events as one CSV file (block, log index, time, transaction, contract, event,
        subject, arguments as JSON), in the same order."""
        c = ctx()
        store, where = c.index(), _filter(args)
        if store.count(where) > c.config.csv_limit:
            abort(400, f"more than {c.config.csv_limit} events match: narrow the filters")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["block", "log_index", "timestamp", "tx", "contract", "event", "subject", "args"])
        for e in store.query(where, newest_first=args["order"] == "newest"):
            writer.writerow(
                [
                    e.block_number,
                    e.log_index,
                    e.timestamp,
                    e.tx_hash,
                    e.contract,
                    e.event,
                    e.subject or "",
                    json.dumps(e.args, sort_keys=True),
                ]
            )
        return Response(
            out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=yinqi-audit.csv"}
        )
