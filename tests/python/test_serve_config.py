"""`hexfleet serve` refuses at start a setting it could only fail on later (scripts/test-python passes the binary)."""
import os
import subprocess

import pytest


def test_https_webhook_url_exits_non_zero_naming_it():
    binary = os.environ.get("HEXFLEET_BIN")
    if not binary:
        pytest.skip("HEXFLEET_BIN (set by scripts/test-python) names the hexfleet binary")
    env = dict(os.environ, HEXFLEET_WEBHOOK_URLS="http://127.0.0.1:9/hooks, https://hooks.example.com/T0/secret-token")
    run = subprocess.run([binary, "serve", "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--no-demo"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0, run.stderr
    assert "invalid_config" in run.stderr and "https://hooks.example.com/…" in run.stderr, run.stderr
    assert "https is not supported" in run.stderr, run.stderr
    assert "secret-token" not in run.stderr, "a webhook URL's path may hold the receiver's token"
