"""Property-based conformance of the HTTP API to /v1/openapi.json, with schemathesis (pinned: 4.32.5).

Runs the schemathesis CLI (all its phases: examples, coverage, fuzzing, and stateful sequences that follow the
document's links from a created order) against the running server that has a road graph — the demo server of
scripts/test-python (HEXFLEET_DEMO_HTTP), else HEXFLEET_HTTP — with the admin token (HEXFLEET_ADMIN_TOKEN).
Checks: no 5xx, a documented status for every answer (errors are each operation's `default` Error response),
the declared content type, and the response schema. WebSocket endpoints are left out (they answer upgrades).
The CLI runs in a subprocess so the test does not depend on the installed pytest's version.
Fails (never skips) when schemathesis is missing (`python3 -m pip install schemathesis==4.32.5`; scripts/test-python
installs it), when no server answers at that address, or without the admin token: a conformance run that did not
happen must not look like one that passed.
"""
import os
import subprocess
import sys
import tempfile
import urllib.request

import pytest

HTTP = os.environ.get("HEXFLEET_DEMO_HTTP") or os.environ.get("HEXFLEET_HTTP", "127.0.0.1:8080")
ADMIN = os.environ.get("HEXFLEET_ADMIN_TOKEN", "")
EXAMPLES = os.environ.get("HEXFLEET_SCHEMATHESIS_EXAMPLES", "30")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


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
