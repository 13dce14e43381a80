"""Amounts stay exact integers from chain to index to API at any size the contracts accept: the largest
receivable (2^96 − 1 units) is listed, counted and audited to the unit; JavaScript, which rounds past
2^53 − 1, gets such integers as decimal strings."""

import csv
import io
import json

from backend.api import create_app
from backend.api.config import ApiConfig
from backend.api.wire import MAX_SAFE_INTEGER, js_safe
from backend.demo.seeding import CORE, TIER1
from backend.services.receivables import ReceivablesService
from tests.conftest import seeded_chain

MOST = 2**96 - 1  # a receivable's amount is a uint96


def test_js_safe_turns_only_integers_javascript_would_round_into_strings():
    value = {"a": MAX_SAFE_INTEGER, "b": -MAX_SAFE_INTEGER - 1, "c": [2**53], "d": True, "e": 1.5}
    assert js_safe(value) == {"a": MAX_SAFE_INTEGER, "b": str(-(2**53)), "c": [str(2**53)], "d": True, "e": 1.5}


def test_the_largest_receivable_is_listed_counted_and_audited_exactly(tmp_path):
    with seeded_chain(tmp_path) as (settings, w3, manifest):
        service = ReceivablesService(w3, manifest)
        due = w3.eth.get_block("latest")["timestamp"] + 30 * 86_400
        rid = service.issue(CORE, TIER1.address, MOST, due, b"\x01" * 32, "MAX-AMOUNT")
        client = create_app(ApiConfig(settings=settings, follow=False)).test_client()

        def get(path):
            response = client.get(path)
            assert response.status_code == 200, response.get_data(as_text=True)
            return json.loads(response.get_data(as_text=True))  # as the page parses it: no big-int reader

        for path in ("/api/receivables", f"/api/receivables?party={TIER1.address}&page_size=200"):
            (row,) = [r for r in get(path)["items"] if r["id"] == rid]
            assert row["amount"] == row["outstanding"] == str(MOST) and row["repaid"] == 0
        detail = get(f"/api/receivables/{rid}")
        assert detail["amount"] == str(MOST) and detail["id"] == rid  # small integers stay numbers
        assert [e["args"]["amount"] for e in detail["history"] if e["event"] == "ReceivableIssued"] == [str(MOST)]
        get("/api/kpis")
        get("/api/kpis/series")
        events = get("/api/audit/events?contract=Receivables&event=ReceivableIssued&page_size=200")["items"]
        (issued,) = [e for e in events if e["subject"] == str(rid)]
        assert issued["args"]["amount"] == str(MOST)
        export = client.get("/api/audit/events.csv?contract=Receivables&event=ReceivableIssued")
        rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
        assert [json.loads(r["args"])["amount"] for r in rows if r["subject"] == str(rid)] == [MOST]  # exact
