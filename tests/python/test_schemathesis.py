"""Property-based conformance of the HTTP API to /v1/openapi.json, with schemathesis (pinned: 4.32.5).

Runs against a running `hexfleet serve` (HEXFLEET_HTTP, default 127.0.0.1:8080) with the admin token
(HEXFLEET_ADMIN_TOKEN). For every operation in the document, generated requests must never get a 5xx, and every
answer must match the document: a documented status (errors are the `default` Error response), the declared
content type, and the response schema. Skipped when schemathesis is not installed or no server answers.
WebSocket endpoints are left out (they answer upgrades, not generated HTTP requests).
"""
import os
import urllib.request

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

HTTP = os.environ.get("HEXFLEET_HTTP", "127.0.0.1:8080")
ADMIN = os.environ.get("HEXFLEET_ADMIN_TOKEN", "")
EXAMPLES = int(os.environ.get("HEXFLEET_SCHEMATHESIS_EXAMPLES", "25"))


@pytest.fixture(scope="session")
def api_schema():
    try:
        urllib.request.urlopen(f"http://{HTTP}/healthz", timeout=2).close()
    except OSError:
        pytest.skip(f"no hexfleet server at {HTTP}")
    if not ADMIN:
        pytest.skip("HEXFLEET_ADMIN_TOKEN is not set")
    return schemathesis.openapi.from_url(f"http://{HTTP}/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex=r"^/v1/ws/")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_openapi(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=30,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
