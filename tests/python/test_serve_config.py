"""`hexfleet serve`'s configuration, on the real binary (scripts/test-python passes it as HEXFLEET_BIN): settings it
refuses at start, the demo's printed admin token, `--data` under directories that do not exist, secrets kept across a
restart, `--print-config`, `--config` files, and `--help` against docs/configuration.md."""
import hashlib
import hmac
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

from hexfleet_client import http, record

BINARY = os.environ.get("HEXFLEET_BIN")
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
needs_binary = pytest.mark.skipif(not BINARY, reason="HEXFLEET_BIN (set by scripts/test-python) names the hexfleet binary")


def clean_env(**extra):
    """The environment without the suite's HEXFLEET_* settings (each is a serve setting now), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXFLEET_")}
    env.update(extra)
    return env


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(args, env=None, timeout=60):
    return subprocess.run([BINARY, "serve", *args], env=env or clean_env(), capture_output=True, text=True, timeout=timeout)


class Server:
    """`hexfleet serve` in the background; `admin_token` is read from its stdout when it prints one."""

    def __init__(self, args, env=None, expect_token=True):
        self.http = f"127.0.0.1:{free_port()}"
        self.udp = f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([BINARY, "serve", "--http", self.http, "--udp", self.udp, *args],
                                     env=env or clean_env(), stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.admin_token = None
        if expect_token:
            line = self.proc.stdout.readline()   # blocks until the listeners are bound (or the process exits)
            assert line.startswith("admin token: "), f"stdout: {line!r}; log: {self.log_text()}"
            self.admin_token = line[len("admin token: "):].strip()
        deadline = time.time() + 120
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log_text()
            try:
                if http("GET", "/healthz", address=self.http)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("no /healthz: " + self.log_text())

    def log_text(self):
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


@needs_binary
def test_https_webhook_url_exits_non_zero_naming_it():
    env = clean_env(HEXFLEET_WEBHOOK_URLS="http://127.0.0.1:9/hooks, https://hooks.example.com/T0/secret-token")
    run = serve(["--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--no-demo"], env=env, timeout=120)
    assert run.returncode != 0, run.stderr
    assert "invalid_config" in run.stderr and "https://hooks.example.com/…" in run.stderr, run.stderr
    assert "https is not supported" in run.stderr, run.stderr
    assert "secret-token" not in run.stderr, "a webhook URL's path may hold the receiver's token"


def signed_ping(driver_id, udp_key_hex, lat, lng):
    """A driver-signed datagram of one record, signed with the key the token endpoint handed out."""
    header = struct.pack("<BBHIQ", 1, 0, 1, 0, driver_id)
    body = header + record(driver_id, int(time.time() * 1000), lat, lng)
    return body + hmac.new(bytes.fromhex(udp_key_hex), body, hashlib.sha256).digest()[:16]


@needs_binary
def test_demo_token_printed_data_dir_made_and_secrets_survive_a_restart():
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "does", "not", "exist", "yet")
        first = Server(["--demo", "--demo-drivers", "5", "--data", data])
        try:
            admin = first.admin_token
            assert re.fullmatch(r"hf-admin-[0-9a-f]{32}", admin), admin
            assert http("GET", "/v1/orders", token=admin, address=first.http)[0] == 200, "the printed token is an admin's"
            assert http("GET", "/v1/orders", token=admin + "x", address=first.http)[0] == 401
            status, issued = http("POST", "/v1/auth/token", {"role": "driver", "subject": "4242"}, token=admin, address=first.http)
            assert status == 201, issued
            customer = http("POST", "/v1/auth/token", {"role": "customer", "subject": "77"}, token=admin, address=first.http)[1]["token"]
        finally:
            first.stop()
        secrets = os.path.join(data, "secrets")
        assert os.path.isdir(data) and os.stat(secrets).st_mode & 0o777 == 0o600
        assert "generated secrets kept for the next start" in first.log_text()

        second = Server(["--demo", "--demo-drivers", "5", "--data", data])
        try:
            assert second.admin_token == admin, "the kept admin token is reused and printed again"
            assert "reusing secrets kept from an earlier start" in second.log_text()
            # Tokens issued before the restart still verify, and the driver's UDP key is the same and signs pings.
            assert http("GET", "/v1/orders", token=customer, address=second.http)[0] == 200
            status, again = http("POST", "/v1/auth/token", {"role": "driver", "subject": "4242"}, token=admin, address=second.http)
            assert status == 201 and again["udp_key"] == issued["udp_key"]
            host, port = second.udp.rsplit(":", 1)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(signed_ping(4242, issued["udp_key"], 43.7350, 7.4200), (host, int(port)))
            deadline = time.time() + 10
            while time.time() < deadline and http("GET", "/v1/drivers/4242", token=issued["token"], address=second.http)[0] != 200:
                time.sleep(0.05)
            status, driver = http("GET", "/v1/drivers/4242", token=issued["token"], address=second.http)
            assert status == 200 and abs(driver["lat"] - 43.7350) < 1e-5, (status, driver)
        finally:
            second.stop()


@needs_binary
def test_a_configured_token_is_used_never_printed_nor_written():
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(["--demo", "--demo-drivers", "1", "--data", tmp],
                        env=clean_env(HEXFLEET_ADMIN_TOKEN="configured-admin-token"), expect_token=False)
        try:
            assert http("GET", "/v1/orders", token="configured-admin-token", address=server.http)[0] == 200
        finally:
            server.stop()
        assert "admin token" not in server.proc.stdout.read()
        with open(os.path.join(tmp, "secrets")) as f:
            kept = f.read()
        assert "configured-admin-token" not in kept and "admin_token" not in kept and "udp_secret=" in kept


@needs_binary
@pytest.mark.parametrize("make_path, reason", [
    (lambda tmp: "/proc/hexfleet-no-such-dir/data", "No such file or directory"),
    (lambda tmp: os.path.join(tmp, "a-file", "data"), "is not a directory"),
])
def test_a_data_dir_that_cannot_be_made_is_a_clear_error(make_path, reason):
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, "a-file"), "w").close()
        path = make_path(tmp)
        run = serve(["--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--data", path])
        assert run.returncode == 1, (run.returncode, run.stderr)
        assert path in run.stderr and reason in run.stderr, run.stderr


@needs_binary
def test_print_config_redacts_secrets_and_names_layers():
    udp_secret, token_secret, webhook_secret = "ab" * 32, "cd" * 32, "hook-secret-value"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(f"token_secret: {token_secret}\ndemo_drivers: 17\nhttp: 127.0.0.1:1111\n")
        f.flush()
        run = serve(["--config", f.name, "--print-config", "--admin-token", "flag-admin-token", "--http", "127.0.0.1:2222"],
                    env=clean_env(HEXFLEET_UDP_SECRET=udp_secret, HEXFLEET_WEBHOOK_SECRET=webhook_secret))
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for secret in (udp_secret, token_secret, webhook_secret, "flag-admin-token"):
        assert secret not in out and secret not in run.stderr
    for key in ("udp_secret", "token_secret", "admin_token", "webhook.secret"):
        assert re.search(rf"^{re.escape(key)}: <redacted>", out, re.M), out
    assert re.search(r'^http: "127\.0\.0\.1:2222" +# --http$', out, re.M), out
    assert re.search(r"^demo_drivers: 17 +# .*\.yaml:2$", out, re.M), out
    assert re.search(r"^udp_secret: <redacted> +# environment variable HEXFLEET_UDP_SECRET$", out, re.M), out
    assert re.search(r"^udp_key_cache: 65536 +# default$", out, re.M), out


@needs_binary
def test_config_file_settings_are_used():
    http_port, udp_port = free_port(), free_port(socket.SOCK_DGRAM)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(f"""# a config file
http: 127.0.0.1:{http_port}
udp: 127.0.0.1:{udp_port}
admin_token: file-admin-token
log_level: warning
store:
  group_commit: false
""")
        f.flush()
        proc = subprocess.Popen([BINARY, "serve", "--config", f.name], env=clean_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 60
            status = None
            while time.time() < deadline and proc.poll() is None:
                try:
                    status = http("GET", "/v1/orders", token="file-admin-token", address=f"127.0.0.1:{http_port}")[0]
                    break
                except OSError:
                    time.sleep(0.1)
            assert status == 200, proc.stderr.read() if proc.poll() is not None else status
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


@needs_binary
@pytest.mark.parametrize("yaml, message", [
    ("http: 127.0.0.1:0\nudp_keycache: 5\n", ":2: key 'udp_keycache': unknown key; did you mean 'udp_key_cache'?"),
    ("store:\n  group_commit: sometimes\n", ":2: key 'store.group_commit': must be true or false, got \"sometimes\""),
    ("track_tick_ms: 5\n", ":1: key 'track_tick_ms': must be an integer 10…1000, got \"5\""),
    ("- just\n- a list\n", "a config file is a mapping of keys to values"),
    ("http: [1, 2\n", "not valid YAML"),
])
def test_bad_config_files_exit_1_naming_the_key(yaml, message):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(yaml)
        f.flush()
        run = serve(["--config", f.name])
        assert run.returncode == 1, (run.returncode, run.stderr)
        assert f.name in run.stderr and message in run.stderr, run.stderr


@needs_binary
def test_bad_environment_value_exits_1_and_a_missing_config_file_too():
    run = serve(["--print-config"], env=clean_env(HEXFLEET_INDEX_RESOLUTION="99"))
    assert run.returncode == 1 and "HEXFLEET_INDEX_RESOLUTION" in run.stderr and "0…15" in run.stderr, run.stderr
    run = serve(["--print-config"], env=clean_env(HEXFLEET_CONFIG="/nonexistent/hexfleet.yaml"))
    assert run.returncode == 1 and "/nonexistent/hexfleet.yaml" in run.stderr and "no such file" in run.stderr, run.stderr


def documented_keys():
    """(key, flags) of each row of the key tables in docs/configuration.md."""
    rows = []
    with open(os.path.join(ROOT, "docs", "configuration.md"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\| `([a-z_.]+)` \| (.*?) \| `HEXFLEET_", line)
            if m:
                rows.append((m.group(1), re.findall(r"`(--[a-z-]+)`", m.group(2))))
    return rows


@needs_binary
def test_help_print_config_and_docs_list_the_same_settings():
    help_text = subprocess.run([BINARY, "serve", "--help"], capture_output=True, text=True, env=clean_env()).stdout
    printed = serve(["--print-config"]).stdout
    printed_keys = set(re.findall(r"^([a-z_.]+):", printed, re.M))
    rows = documented_keys()
    jwt = {key for key, _ in rows if key.startswith("jwt.")}   # documented ahead of JWT support
    assert printed_keys, printed
    assert printed_keys == {key for key, _ in rows} - (jwt - printed_keys), "docs/configuration.md and --print-config differ"
    for key, flags in rows:
        if key in printed_keys:
            assert flags, key
            for flag in flags:
                assert flag.replace("--no-", "--") in help_text.replace("--no-", "--"), f"{flag} not in serve --help"


@needs_binary
@pytest.mark.parametrize("command", ["serve", "simulate"])
def test_help_shows_defaults_as_users_write_them(command):
    help_text = subprocess.run([BINARY, command, "--help"], capture_output=True, text=True, env=clean_env()).stdout
    assert "HostPort(" not in help_text and "host:" not in help_text.replace("host:port", ""), help_text
    flat = " ".join(help_text.split())
    assert "default: 127.0.0.1:8080" in flat and "default: 127.0.0.1:9090" in flat, help_text
