"""Property-based conformance of the HTTP API to /v1/openapi.json, with schemathesis (pinned: 4.32.5).

Runs the schemathesis CLI (all its phases: examples, coverage, fuzzing, and stateful sequences that follow the
document's links from a created order) against the running server that has a road graph — the demo server of
scripts/test-python (HEXFLEET_DEMO_HTTP), else HEXFLEET_HTTP — with the admin token (HEXFLEET_ADMIN_TOKEN).
Checks: no 5xx, a documented status for every answer (errors are each operation's `default` Error response),
the declared content type, headers and response schema; every operation that declares the bearer scheme refuses a
request without it or with a bad token (ignored_auth, missing_required_header; /v1/surge declares the token
optional: it is public in demo mode); and the stateful sequences' resources stay readable once created
(use_after_free, ensure_resource_availability). WebSocket endpoints are left out (they answer upgrades); every
other operation in the document must be selected and tested (the CLI's summary is checked against the document).
The CLI runs in a subprocess so the test does not depend on the installed pytest's version.
Fails (never skips) when schemathesis is missing (`python3 -m pip install schemathesis==4.32.5`; scripts/test-python
installs it), when no server answers at that address, or without the admin token: a conformance run that did not
happen must not look like one that passed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

import pytest

HTTP = os.environ.get("HEXFLEET_DEMO_HTTP") or os.environ.get("HEXFLEET_HTTP", "127.0.0.1:8080")
ADMIN = os.environ.get("HEXFLEET_ADMIN_TOKEN", "")
EXAMPLES = os.environ.get("HEXFLEET_SCHEMATHESIS_EXAMPLES", "30")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "response_headers_conformance,missing_required_header,ignored_auth,use_after_free,ensure_resource_availability")


def test_api_matches_openapi():
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        pytest.fail("schemathesis is not installed: python3 -m pip install schemathesis==4.32.5")
    try:
        urllib.request.urlopen(f"http://{HTTP}/healthz", timeout=5).close()
    except OSError as e:
        pytest.fail(f"no hexfleet server answers http://{HTTP}/healthz ({e}): the conformance run did not happen")
    if not ADMIN:
        pytest.fail("HEXFLEET_ADMIN_TOKEN is not set: the conformance run needs the server's admin token")
    run = [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; schemathesis()",
           "run", f"http://{HTTP}/v1/openapi.json", "--header", f"Authorization: Bearer {ADMIN}",
           "--exclude-path-regex", "^/v1/ws/", "--max-examples", EXAMPLES, "--checks", CHECKS, "--no-color"]
    with tempfile.TemporaryDirectory() as scratch:   # the CLI keeps its state in ./.schemathesis: not in the repo
        result = subprocess.run(run, capture_output=True, text=True, timeout=900, cwd=scratch)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert " passed" in result.stdout, report
    # Every documented HTTP operation was selected and tested: none skipped, none left out by a filter.
    with urllib.request.urlopen(f"http://{HTTP}/v1/openapi.json", timeout=10) as r:
        paths = json.load(r)["paths"]
    # (The CLI leaves out the operation that serves the document it reads: GET /v1/openapi.json.)
    http_operations = sum(1 for path, ops in paths.items() if not path.startswith("/v1/ws/") and path != "/v1/openapi.json"
                          for method in ops if method in ("get", "post", "put", "delete", "patch"))
    selected = re.search(r"Selected:\s*(\d+)/(\d+)", result.stdout)
    tested = re.search(r"Tested:\s*(\d+)", result.stdout)
    assert selected and tested, report
    assert int(selected.group(1)) == http_operations, f"{selected.group(0)}, the document has {http_operations} HTTP operations\n{report}"
    assert int(tested.group(1)) == http_operations, f"{tested.group(0)} of {http_operations}\n{report}"
