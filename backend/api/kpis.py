"""The operations dashboard's figures (the article's 申请量、通过率、不良率 and more), now and over time."""

from dataclasses import asdict

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.api.context import ctx
from backend.index import views

blp = Blueprint("kpis", __name__, url_prefix="/api/kpis", description="KPIs")
BUCKETS = {"hour": 3_600, "day": 86_400, "week": 7 * 86_400}


@blp.route("")
class Kpis(MethodView):
    @blp.response(200)
    def get(self):
        """Applications, approvals and approval rate, financed volume, time to cash, NPL rate, credit
        utilisation, leases with open flags."""
        return asdict(ctx().view(views.kpis))


class SeriesArgs(Schema):
    bucket = fields.String(load_default="day", validate=validate.OneOf(list(BUCKETS)))


@blp.route("/series")
class Series(MethodView):
    @blp.arguments(SeriesArgs, location="query")
    @blp.response(200)
    def get(self, args):
        """The KPIs' underlying counts per hour, day or week."""
        return ctx().view(views.series, BUCKETS[args["bucket"]])
