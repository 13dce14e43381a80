"""Equipment leases: the list folded from the index, one lease live with its periods and schedule."""

from flask import abort
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.context import ctx
from backend.api.schemas import Page, PartyPageArgs, page_of
from backend.core.chain import call_named
from backend.core.enums import LeaseStatus
from backend.index import views
from backend.index.store import EventFilter

blp = Blueprint("leases", __name__, url_prefix="/api/leases", description="IoT equipment leasing")


@blp.route("")
class Leases(MethodView):
    @blp.arguments(PartyPageArgs, location="query")
    @blp.response(200, Page)
    def get(self, args):
        """Every lease (or those `party` leases out or in), as the index has them; an offer says when it
        lapses unaccepted and whether it has, by the chain's clock."""
        c = ctx()
        page = page_of(c.view(views.leases, args["party"]), args)
        offers = [row for row in page["items"] if row["status"] == LeaseStatus.OFFERED.label]
        if offers:
            now = c.w3.eth.get_block("latest")["timestamp"]
            lapse = {row["id"]: row["offered_at"] + c.leases.offer_lifetime for row in offers}
            page["items"] = [
                row | {"offer_lapses_at": lapse[row["id"]], "offer_lapsed": now > lapse[row["id"]]}
                if row["id"] in lapse
                else row
                for row in page["items"]
            ]
        return page


_NO_PERIODS = (LeaseStatus.OFFERED.label, LeaseStatus.CANCELLED.label)  # never started: `start` is the offer's time


@blp.route("/<int:lease_id>")
class Lease(MethodView):
    @blp.response(200)
    def get(self, lease_id):
        """One lease now: terms, flags, each period's usage, rent, payment and due date (`period_details`,
        the periods begun so far; `periods` is the term), its history."""
        c = ctx()
        if lease_id >= c.leases.contract.functions.leaseCount().call():
            abort(404, f"no lease #{lease_id}")
        lease = c.leases.lease(lease_id)
        fn = c.leases.contract.functions
        periods = []
        now = c.w3.eth.get_block("latest")["timestamp"]
        current = (now - lease.start) // lease.period_seconds if lease.status not in _NO_PERIODS else -1
        for k in range(min(lease.periods, max(lease.billed, current + 1))):
            period = call_named(fn.periodOf(lease_id, k))
            periods.append(
                {
                    "period": k,
                    "usage_hours": period.p.usage / 100,
                    "rent": period.p.rent,
                    "paid": period.p.paid,
                    "due_at": period.dueAt,
                    "billed": k < lease.billed,
                    "assigned": period.assigned,
                    "receivable_id": period.receivableId if period.assigned else None,
                }
            )
        history = c.index().query(EventFilter(contract="EquipmentLease", subject=str(lease_id)))
        device = next((row["device_id"] for row in c.view(views.leases, None) if row["id"] == lease_id), None)
        return {
            **lease.__dict__,
            "device_id": device,
            "outstanding": fn.outstanding(lease_id).call(),
            "tiers": [
                {"up_to_hours": tier.upToHours, "price_per_hour": tier.pricePerHour}
                for tier in fn.tiersOf(lease_id).call()
            ],
            "period_details": periods,  # the periods begun or billed so far; "periods" is the term
            "offer_lapses_at": c.leases.lapses_at(lease),
            "offer_lapsed": c.leases.lapsed(lease, now),
            "history": [e.to_json() for e in history],
        }
