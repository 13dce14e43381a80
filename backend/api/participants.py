"""Participants: who is onboarded in which roles (from the registry's events), one live record."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from backend.api.context import ctx
from backend.api.schemas import Page, PageArgs, checked_address, page_of
from backend.core.enums import Role
from backend.index import views

blp = Blueprint("participants", __name__, url_prefix="/api/participants", description="Participants")


class ParticipantArgs(PageArgs):
    role = fields.String(load_default=None, validate=validate.OneOf([role.name for role in Role]))


@blp.route("")
class Participants(MethodView):
    @blp.arguments(ParticipantArgs, location="query")
    @blp.response(200, Page)
    def get(self, args):
        """Every onboarded participant, optionally only those holding `role`."""
        rows = ctx().view(views.participants)
        if args["role"]:
            rows = [p for p in rows if args["role"] in p["roles"]]
        return page_of(rows, args)


@blp.route("/<address>")
class Participant(MethodView):
    @blp.response(200)
    def get(self, address):
        """One participant's live record from the registry."""
        account = checked_address(address)
        c = ctx()
        registry = c.manifest.contract(c.w3, "ParticipantRegistry")
        record = registry.functions.participant(account).call()
        if record.roles == 0:
            from flask import abort

            abort(404, f"{account} is not an onboarded participant")
        name = next((p["name"] for p in c.view(views.participants) if p["address"] == account), "")
        return {
            "address": account,
            "name": name,
            "roles": views.role_names(record.roles),
            "suspended": record.suspended,
            "onboarded_at": record.onboardedAt,
            "updated_at": record.updatedAt,
            "kyc_hash": "0x" + record.kycHash.hex(),
        }
