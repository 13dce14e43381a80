"""The HTTP API against a real anvil seeded like the demo: every endpoint with good and bad input, the
OpenAPI document, and the event index (resume after restart, reorg)."""

import csv
import io
from dataclasses import replace
from typing import NamedTuple
from uuid import uuid4

import pytest
from web3 import Web3

from backend.api import create_app
from backend.api.config import ApiConfig
from backend.core.codec import lease_payload, pack_lease_word
from backend.core.config import Settings
from backend.core.enums import LeaseStatus
from backend.core.feeds import IOT_FEED
from backend.core.manifest import Manifest
from backend.demo.seeding import CORE, LESSEE, LESSOR, TIER1
from backend.index import Indexer, IndexStore, views
from backend.services.leasing import LeaseService
from oracles.gateway import ReportPublisher
from oracles.outbox import Outbox
from tests.conftest import free_port, seeded_chain

DEMO_MEMBERS = 9


class World(NamedTuple):
    """The seeded chain the API tests read."""

    settings: Settings
    w3: Web3
    manifest: Manifest
    leases: dict[str, int]  # device id → lease id


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    with seeded_chain(tmp, credit=True) as (settings, w3, manifest):
        leases = LeaseService(w3, manifest).lease_fleet(LESSOR, LESSEE, ["EXC-001", "EXC-002"])
        from backend.core.dev_accounts import dev_account

        outbox = Outbox(tmp / "iot-outbox.sqlite")
        publisher = ReportPublisher(w3, manifest, dev_account(8), outbox, IOT_FEED)
        publisher.publish(
            lease_payload([pack_lease_word(leases["EXC-002"], 0, 150, 2)]),
            {"flags:EXC-002:1": "2"},
            as_of=publisher.chain_now(),
        )
        outbox.close()
        yield World(settings, w3, manifest, leases)


@pytest.fixture(scope="module")
def client(world):
    app = create_app(
        ApiConfig(settings=world.settings, follow=False, credit_reasons=world.settings.home / "credit" / "reasons.json")
    )
    return app.test_client()


def ok(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refused(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == status and body["status"] and "message" in body  # one error shape everywhere
    return body


def test_health_reports_chain_and_index(client, world):
    body = ok(client.get("/api/health"))
    assert body["chain_id"] == 31337 and body["latest_block"] == world.w3.eth.block_number
    assert body["indexed_block"] == body["latest_block"]


def test_manifest_gives_the_frontend_addresses_and_abis(client, world):
    body = ok(client.get("/api/manifest"))
    assert body["contracts"]["Receivables"]["address"] == world.manifest.record("Receivables").address
    assert any(item.get("name") == "applyForFinancing" for item in body["contracts"]["Receivables"]["abi"])
    assert set(body["contracts"]) >= {"EquipmentLease", "CreditLine", "SettlementToken"}


def test_openapi_document_is_generated_and_lists_every_endpoint(client):
    doc = ok(client.get("/api/openapi.json"))
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    assert {
        "/api/health",
        "/api/participants",
        "/api/participants/{address}",
        "/api/receivables",
        "/api/receivables/{rid}",
        "/api/credit-lines",
        "/api/credit-lines/{address}",
        "/api/leases",
        "/api/leases/{lease_id}",
        "/api/alerts",
        "/api/kpis",
        "/api/kpis/series",
        "/api/audit/events",
        "/api/audit/events.csv",
    } <= paths
    params = {p["name"] for p in doc["paths"]["/api/receivables"]["get"]["parameters"]}
    assert {"page", "page_size", "party", "status"} <= params


def test_participants_list_filter_and_one(client):
    body = ok(client.get("/api/participants"))
    assert body["total"] == DEMO_MEMBERS
    suppliers = ok(client.get("/api/participants?role=SUPPLIER"))["items"]
    assert TIER1.address in {p["address"] for p in suppliers} and all("SUPPLIER" in p["roles"] for p in suppliers)
    one = ok(client.get(f"/api/participants/{CORE.address.lower()}"))
    assert one["address"] == CORE.address and "CORE_ENTERPRISE" in one["roles"] and one["name"].startswith("Huaxia")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/participants?role=WIZARD", 422),
        ("/api/participants?page=0", 422),
        ("/api/participants?page_size=201", 422),
        ("/api/participants?page=abc", 422),
        ("/api/participants/0x123", 400),
        ("/api/participants/0x000000000000000000000000000000000000dEaD", 404),
        ("/api/receivables?party=not-an-address", 422),
        ("/api/receivables?status=Lost", 422),
        ("/api/receivables/999999", 404),
        ("/api/receivables/-1", 404),
        ("/api/credit-lines/0xZZ", 400),
        ("/api/leases/999", 404),
        ("/api/alerts?open=maybe", 422),
        ("/api/kpis/series?bucket=year", 422),
        ("/api/audit/events?contract=Nope", 422),
        ("/api/audit/events?from_block=10&to_block=2", 400),
        ("/api/audit/events?event=Drop%20table", 422),
        ("/api/no-such-thing", 404),
    ],
)
def test_bad_input_is_a_4xx_with_the_error_shape(client, url, status):
    refused(client.get(url), status)


def test_receivables_list_filters_and_detail(client):
    body = ok(client.get("/api/receivables?page_size=100"))
    assert body["total"] >= 6  # two issued, two splits of two parts each
    statuses = {r["status"] for r in body["items"]}
    assert {"Active", "Split", "Financed"} <= statuses
    financed = ok(client.get("/api/receivables?status=Financed"))["items"]
    assert len(financed) == 2
    mine = ok(client.get(f"/api/receivables?party={TIER1.address}"))["items"]
    assert mine and all(TIER1.address in (r["debtor"], r["holder"]) for r in mine)
    first = ok(client.get("/api/receivables/0"))
    assert first["status"] == "Split" and first["parts"] and next(e["event"] for e in first["history"]) == "Transfer"
    active = next(r for r in body["items"] if r["status"] == "Active")
    detail = ok(client.get(f"/api/receivables/{active['id']}"))
    assert detail["quote"]["refusal"] == "None" and 0 < detail["quote"]["advance"] <= detail["outstanding"]
    page2 = ok(client.get("/api/receivables?page=2&page_size=2"))
    assert page2["items"] == body["items"][2:4]


def test_credit_line_with_reasons(client):
    from backend.core.dev_accounts import dev_account

    merchant = dev_account(5).address
    lines = ok(client.get("/api/credit-lines"))["items"]
    assert [line["merchant"].lower() for line in lines] == [merchant.lower()]
    line = ok(client.get(f"/api/credit-lines/{merchant}"))
    assert line["limit"] > 0 and line["status"] == "Active" and line["available"] == line["limit"]
    assert line["reasons"]["reasons"] and {"feature", "value", "contribution"} <= line["reasons"]["reasons"][0].keys()
    assert any(e["event"] == "ScoresApplied" for e in line["history"])


def test_leases_alerts_and_kpis(client, world):
    rows = ok(client.get(f"/api/leases?party={LESSEE.address}"))["items"]
    assert [r["device_id"] for r in rows] == ["EXC-001", "EXC-002"]
    flagged = next(r for r in rows if r["device_id"] == "EXC-002")
    assert flagged["flags"] == ["GEOFENCE"] and flagged["status"] == "Active"
    detail = ok(client.get(f"/api/leases/{world.leases['EXC-002']}"))
    assert detail["flags"] == ["GEOFENCE"] and detail["period_details"][0]["usage_hours"] == 1.5
    assert detail["tiers"][0]["up_to_hours"] == 8 and detail["device_id"] == "EXC-002"
    alerts = ok(client.get("/api/alerts"))["items"]
    assert [(a["device_id"], a["raised"]) for a in alerts] == [("EXC-002", ["GEOFENCE"])]
    kpis = ok(client.get("/api/kpis"))
    assert kpis["financing_applications"] == kpis["financing_approvals"] == 2 and kpis["approval_rate"] == 1.0
    assert kpis["application_to_cash_seconds"] == 0  # the advance is paid in the application's transaction
    assert kpis["npl_rate"] == 0 and kpis["financed_volume"] > 0 and kpis["credit_limits"] > 0
    assert kpis["leases_with_open_flags"] == 1 and kpis["leases_active"] == 2
    series = ok(client.get("/api/kpis/series?bucket=hour"))
    assert sum(p["approvals"] for p in series["points"]) == 2


def test_audit_filters_pages_and_csv(client):
    body = ok(client.get("/api/audit/events?contract=Receivables&event=ReceivableFinanced"))
    assert body["total"] == 2 and all(e["event"] == "ReceivableFinanced" for e in body["items"])
    history = ok(client.get("/api/audit/events?contract=Receivables&subject=0"))["items"]
    assert history and all(e["subject"] == "0" for e in history)
    mine = ok(client.get(f"/api/audit/events?party={CORE.address}&page_size=200"))
    assert mine["total"] > 0 and all(CORE.address.lower() in str(e["args"]).lower() for e in mine["items"])
    response = client.get(f"/api/audit/events.csv?party={CORE.address}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["block", "log_index", "timestamp", "tx", "contract", "event", "subject", "args"]
    assert len(rows) - 1 == mine["total"]


def test_audit_is_newest_first_and_forgives_how_filters_are_typed(client):
    """As an auditor types: the newest first, an event name in any case, "#0" for subject 0, a part of
    an address; ``order=oldest`` for the other way."""
    newest = ok(client.get("/api/audit/events?page_size=5"))["items"]
    assert [(e["block"], e["log_index"]) for e in newest] == sorted(
        ((e["block"], e["log_index"]) for e in newest), reverse=True
    )
    oldest = ok(client.get("/api/audit/events?page_size=5&order=oldest"))["items"]
    assert oldest[0]["block"] <= newest[-1]["block"]
    exact = ok(client.get("/api/audit/events?contract=Receivables&event=ReceivableFinanced"))
    assert ok(client.get("/api/audit/events?event=receivablefinanced"))["total"] == exact["total"] == 2
    by_id = ok(client.get("/api/audit/events?contract=Receivables&subject=0"))["total"]
    assert ok(client.get("/api/audit/events?contract=Receivables&subject=%230"))["total"] == by_id > 0
    whole = ok(client.get(f"/api/audit/events?party={CORE.address}"))["total"]
    for part in (CORE.address[:10], CORE.address[-6:].upper(), CORE.address[2:].lower()):
        found = ok(client.get(f"/api/audit/events?party={part}&page_size=200"))
        assert found["total"] >= whole and all(part.lower() in str(e["args"]).lower() for e in found["items"])
    assert ok(client.get(f"/api/audit/events?party={CORE.address[2:].lower()}"))["total"] == whole
    refused(client.get("/api/audit/events?party=0x12"), 422)  # too short to mean anyone


def test_the_backend_never_signs(client):
    """No endpoint takes a write: every path is GET only."""
    doc = ok(client.get("/api/openapi.json"))
    assert {method for path in doc["paths"].values() for method in path} - {"parameters"} == {"get"}
    refused(client.post("/api/receivables", json={}), 405)


def test_a_withdrawn_offer_is_indexed_cancelled_and_its_device_free(client, world, tmp_path):
    service = LeaseService(world.w3, world.manifest)
    device = f"EXC-WITHDRAWN-{uuid4().hex[:6]}"
    lease_id = service.offer(LESSOR, LESSEE.address, device, LEASE_TERMS)
    assert ok(client.get(f"/api/leases/{lease_id}"))["period_details"] == []  # an offer has no periods yet
    service.cancel_offer(LESSOR, lease_id)
    assert ok(client.get(f"/api/leases/{lease_id}"))["period_details"] == []
    index = Indexer(world.w3, world.manifest, IndexStore(tmp_path / "index.sqlite"))
    index.sync()
    (row,) = [r for r in views.leases(index.store) if r["id"] == lease_id]
    assert row["status"] == LeaseStatus.CANCELLED.label
    assert service.offer(LESSOR, LESSEE.address, device, LEASE_TERMS) == lease_id + 1  # the device is free
    index.store.close()


def test_an_offer_nobody_accepted_in_time_is_shown_lapsed(client, world):
    service = LeaseService(world.w3, world.manifest)
    lease_id = service.offer(LESSOR, LESSEE.address, f"EXC-LAPSING-{uuid4().hex[:6]}", LEASE_TERMS)
    detail = ok(client.get(f"/api/leases/{lease_id}"))
    assert detail["offer_lapses_at"] == detail["start"] + 14 * 86_400 and not detail["offer_lapsed"]
    rpc = world.w3.provider.make_request
    snapshot = rpc("evm_snapshot", [])["result"]
    try:
        rpc("evm_increaseTime", [14 * 86_400 + 1])
        rpc("evm_mine", [])
        assert ok(client.get(f"/api/leases/{lease_id}"))["offer_lapsed"] and service.lapsed(service.lease(lease_id))
        total = ok(client.get("/api/leases", query_string={"page_size": 1}))["total"]
        (row,) = ok(client.get("/api/leases", query_string={"page_size": 1, "page": total}))["items"]
        assert row["id"] == lease_id  # the newest; the list says it lapsed too, though no event marks it
        assert row["status"] == LeaseStatus.OFFERED.label and row["offer_lapsed"]
        assert row["offer_lapses_at"] == detail["offer_lapses_at"]
    finally:
        rpc("evm_revert", [snapshot])


def test_index_resumes_after_restart_without_duplicates(world, index_target):
    path = index_target
    first = Indexer(world.w3, world.manifest, IndexStore(path))
    first.sync()
    before = first.store.count()
    first.store.close()
    LeaseService(world.w3, world.manifest).offer(
        LESSOR, LESSEE.address, f"EXC-RESUME-{uuid4().hex[:6]}", LEASE_TERMS
    )  # one new event
    again = Indexer(world.w3, world.manifest, IndexStore(path))  # a restart: re-reads the last blocks first
    again.sync()
    assert again.store.count() == before + 1
    keys = [(e.block_number, e.log_index) for e in again.store.query()]
    assert len(keys) == len(set(keys))


def test_index_survives_a_reorg(world, index_target):
    index = Indexer(world.w3, world.manifest, IndexStore(index_target))
    index.sync()
    tag = uuid4().hex[:6]
    snapshot = world.w3.provider.make_request("evm_snapshot", [])["result"]
    LeaseService(world.w3, world.manifest).offer(LESSOR, LESSEE.address, f"EXC-ORPHAN-{tag}", LEASE_TERMS)
    index.sync()
    assert [e.args["deviceId"] for e in index.store.query() if e.event == "LeaseOffered"][-1] == f"EXC-ORPHAN-{tag}"
    world.w3.provider.make_request("evm_revert", [snapshot])  # the block with that offer is gone
    world.w3.provider.make_request("evm_mine", [])
    LeaseService(world.w3, world.manifest).offer(LESSOR, LESSEE.address, f"EXC-CANON-{tag}", LEASE_TERMS)
    index.sync()
    offered = [e.args["deviceId"] for e in index.store.query() if e.event == "LeaseOffered"]
    assert f"EXC-ORPHAN-{tag}" not in offered and offered[-1] == f"EXC-CANON-{tag}"


def test_a_chain_error_is_a_503_not_a_crash(world):
    app = create_app(
        ApiConfig(
            settings=replace(world.settings, rpc_url=f"http://127.0.0.1:{free_port()}", rpc_timeout=1), follow=False
        )
    )
    refused(app.test_client().get("/api/health"), 503)


def test_two_api_processes_share_one_postgres_index(world, postgres_index):
    """What several API processes behind a load balancer do: each follows the chain into the same
    index; both serve the same lists, and the index holds every event once."""
    index_target = postgres_index
    clients = [
        create_app(ApiConfig(settings=world.settings, follow=False, index=index_target)).test_client() for _ in range(2)
    ]
    bodies = [ok(c.get("/api/receivables?page_size=200")) for c in clients]
    assert bodies[0] == bodies[1] and bodies[0]["total"] >= 6
    store = IndexStore(index_target)
    keys = [(e.block_number, e.log_index) for e in store.query()]
    assert len(keys) == len(set(keys)) and store.count() == len(keys)
    assert ok(clients[1].get("/api/kpis"))["financing_approvals"] == 2


from backend.services.leasing import DEMO_TERMS as LEASE_TERMS  # noqa: E402
