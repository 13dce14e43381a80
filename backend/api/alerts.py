"""Alerts: leases whose devices the IoT oracle flagged (idle, geofence, fuel, tamper)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from backend.api.context import ctx
from backend.api.schemas import Page, PageArgs, page_of
from backend.index import views

blp = Blueprint("alerts", __name__, url_prefix="/api/alerts", description="Risk alerts")


class AlertArgs(PageArgs):
    open = fields.Boolean(load_default=True, metadata={"description": "only leases with a flag raised now"})


@blp.route("")
class Alerts(MethodView):
    @blp.arguments(AlertArgs, location="query")
    @blp.response(200, Page)
    def get(self, args):
        """Open alerts (one per lease, its latest change), or every flag change with `open=false`."""
        return page_of(ctx().view(views.alerts, args["open"]), args)
