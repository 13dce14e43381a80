"""The API fuzzed from its own OpenAPI document (schemathesis): whatever the generated parameters,
no server error — bad input is a 4xx with the error shape, good input a 2xx."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from backend.api import create_app
from backend.api.config import ApiConfig
from tests.conftest import seeded_chain


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    with seeded_chain(tmp_path_factory.mktemp("fuzz")) as (config, _, _):
        app = create_app(ApiConfig(settings=config, follow=False))
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case):
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.formatted_path} {case.query}: {response.text[:300]}"
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type") or ""
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if content_type.startswith("application/json"):
        body = response.json()
        if response.status_code >= 400:
            assert {"code", "status", "message"} <= body.keys()
