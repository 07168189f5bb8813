"""A `hexfleet serve` of a test's own, with the flags the test needs (limits set low enough to reach quickly), on
free loopback ports with throwaway secrets. Used by the abuse suite and scripts/test-faults."""
import os
import secrets
import socket
import subprocess
import tempfile
import time
import urllib.request

import hexfleet_client as hc


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`with Server("--max-connections", "20") as s:` runs the binary until the block ends; `s.http`, `s.udp`,
    `s.admin`, `s.udp_secret` and `s.log()` for the test."""

    def __init__(self, *flags, env=None, wrapper=(), wait=True, start_timeout=120):
        self.binary = os.environ.get("HEXFLEET_BIN") or ".build/debug/hexfleet"
        self.http = f"127.0.0.1:{free_port()}"
        self.udp = f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
        self.admin = "abuse-admin-" + secrets.token_hex(8)
        self.udp_secret = bytes.fromhex(secrets.token_hex(32))
        self.flags = list(flags)
        self.env = dict(os.environ, HEXFLEET_ADMIN_TOKEN=self.admin, HEXFLEET_UDP_SECRET=self.udp_secret.hex(),
                        HEXFLEET_TOKEN_SECRET=secrets.token_hex(32), **(env or {}))
        self.wrapper = list(wrapper)
        self.wait = wait
        self.start_timeout = start_timeout
        self.proc = None
        self.logfile = tempfile.NamedTemporaryFile(prefix="hexfleet-abuse-", suffix=".log", delete=False)

    def __enter__(self):
        self.start()
        return self

    def start(self):
        cmd = self.wrapper + [self.binary, "serve", "--http", self.http, "--udp", self.udp, "--no-demo",
                              "--log-level", "warning"] + self.flags
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.logfile, stderr=subprocess.STDOUT)
        if self.wait:
            self.wait_healthy()
        return self

    def wait_healthy(self):
        deadline = time.time() + self.start_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hexfleet serve exited with {self.proc.returncode}: {self.log()}")
            try:
                urllib.request.urlopen(f"http://{self.http}/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"hexfleet serve did not answer /healthz: {self.log()}")

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.unlink(self.logfile.name) if os.path.exists(self.logfile.name) else None

    def log(self):
        try:
            with open(self.logfile.name, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # Shortcuts to the shared client helpers, aimed at this server.
    def request(self, method, path, body=None, token=None):
        return hc.http(method, path, body, token=token, address=self.http)

    def metric(self, series):
        return hc.metric(series, address=self.http)

    def token(self, role, subject):
        status, body = self.request("POST", "/v1/auth/token", {"role": role, "subject": subject}, token=self.admin)
        assert status == 201, body
        return body["token"]
