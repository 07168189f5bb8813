"""Abuse on 127.0.0.1 against the real binary, each test on a server of its own with its limit set low enough to
reach in a second or two (docs/limits.md): connections past --max-connections, one token flooding requests,
forged and replayed UDP mixed with valid pings, WebSocket clients sending fragments or pings forever, a client
too slow with its request head. The long runs (500 slowloris clients, disk full, clock steps) are in
tests/faults, run by scripts/test-faults."""
import hashlib
import hmac
import http.client
import json
import os
import socket
import struct
import threading
import time

import pytest

from abuse_server import Server
from hexfleet_client import RawWebSocket, eventually, record

pytestmark = pytest.mark.skipif(not os.environ.get("HEXFLEET_BIN"), reason="scripts/test-python names the binary")


def connect(server):
    host, port = server.http.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=10)


def get(conn, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    return r.status, r.getheader("Retry-After"), r.read()


def test_connections_past_the_limit_are_closed_at_once_counted_and_service_returns():
    with Server("--max-connections", "16") as server:
        host, port = server.http.rsplit(":", 1)
        held, attempts = [], 0
        while len(held) < 16:
            attempts += 1
            assert attempts < 100, "the server stopped accepting below its limit"
            # Each held connection is served (a connection of the health check may still be closing: retry).
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            if s.recv(4096).startswith(b"HTTP/1.1 200"):
                held.append(s)
            else:
                s.close()
                time.sleep(0.1)
        refused = 0
        for _ in range(5):
            with socket.create_connection((host, int(port)), timeout=5) as extra:
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                try:
                    data = extra.recv(4096)
                except ConnectionResetError:
                    data = b""
                assert data == b"", "a connection past the limit is closed without an answer"
                refused += 1
        for s in held:
            s.close()

        def healthy():
            # Until the server has seen the held connections close it is still at its limit and resets a new one.
            try:
                return server.request("GET", "/healthz")[0] == 200
            except ConnectionError:
                return False

        assert eventually(healthy, within=5)
        assert eventually(lambda: (server.metric("hexfleet_connections_refused_total") or 0) >= refused, within=5)
        assert server.metric('hexfleet_limit{name="max_connections"}') == 16


def test_one_token_flooding_gets_429_with_retry_after_while_others_are_served():
    with Server("--rate-limit", "20") as server:
        flooder, other = server.token("customer", "501"), server.token("customer", "502")
        statuses, retry, body = [], None, None
        conn = connect(server)
        for _ in range(200):
            status, retry_after, raw = get(conn, "/v1/orders", flooder)
            statuses.append(status)
            if status == 429:
                retry, body = retry_after, json.loads(raw)
        assert statuses[:40].count(200) >= 39, "the burst (twice the rate) is admitted"
        assert statuses.count(429) >= 100, statuses
        assert body["error"]["code"] == "rate_limited" and retry is not None and int(retry) >= 1
        # Another token is unaffected, and so is the admin token however much it sends.
        conn2 = connect(server)
        assert [get(conn2, "/v1/orders", other)[0] for _ in range(10)] == [200] * 10
        assert all(get(conn2, "/v1/orders", server.admin)[0] == 200 for _ in range(300))
        assert eventually(lambda: (server.metric("hexfleet_rate_limited_total") or 0) >= statuses.count(429))
        # The flooder is served again once its bucket refills.
        time.sleep(1.2)
        assert get(conn, "/v1/orders", flooder)[0] == 200


def signed(secret, records, signer):
    header = struct.pack("<BBHIQ", 1, 0, len(records), 0, signer)
    body = header + b"".join(records)
    key = hmac.new(secret, f"driver:{signer}".encode(), hashlib.sha256).digest()
    return body + hmac.new(key, body, hashlib.sha256).digest()[:16]


def test_forged_and_replayed_udp_floods_mixed_with_valid_pings():
    with Server() as server:
        host, port = server.udp.rsplit(":", 1)
        base = int(time.time() * 1000)
        valid, forged, replayed = [], [], []
        for i in range(2_000):
            driver = 70_000 + i
            d = signed(server.udp_secret, [record(driver, base + i, 60.17 + i * 1e-5, 24.94)], driver)
            valid.append(d)
            # Forged: the same record under a wrong key; and a valid datagram sent again (a replay).
            forged.append(signed(b"\x01" * 32, [record(driver, base + i + 1, 60.17, 24.94)], driver))
            forged.append(d[:-1] + bytes([d[-1] ^ 0xFF]))
            replayed.append(d)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            # Interleaved, in bursts the receive buffer holds: forged, valid, replay, forged.
            for i in range(2_000):
                s.sendto(forged[2 * i], (host, int(port)))
                s.sendto(valid[i], (host, int(port)))
                s.sendto(forged[2 * i + 1], (host, int(port)))
                if i % 50 == 49:
                    time.sleep(0.005)
            time.sleep(0.2)
            for i, d in enumerate(replayed):
                s.sendto(d, (host, int(port)))
                if i % 100 == 99:
                    time.sleep(0.005)

        def settled():
            return (server.metric('hexfleet_udp_dropped_total{reason="bad_tag"}') or 0) >= 0.99 * len(forged) \
                and (server.metric('hexfleet_udp_dropped_total{reason="replay"}') or 0) >= 0.99 * len(replayed)
        assert eventually(settled, within=10), server.log()
        accepted = server.metric('hexfleet_pings_accepted_total{transport="udp"}')
        assert 0.99 * len(valid) <= accepted <= len(valid), "valid pings kept; nothing forged or replayed accepted"
        assert server.metric('hexfleet_udp_dropped_total{reason="bad_tag"}') <= len(forged)
        status, body = server.request("GET", "/healthz")
        assert status == 200 and body["drivers"] == accepted


def frame(opcode, payload, fin=True):
    mask = os.urandom(4)
    head = struct.pack("!BB", (0x80 if fin else 0) | opcode, 0x80 | len(payload))
    return head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload))


def close_code_within(ws, seconds):
    ws.sock.settimeout(seconds)
    return ws.read_close_code()


def test_websocket_fragments_forever_are_cut_off_with_1008():
    with Server() as server:
        ws = RawWebSocket(f"/v1/ws/track?token={server.admin}", address=server.http)
        assert ws.status == 101
        sent = 0
        try:
            ws.sock.sendall(frame(1, b"{", fin=False))
            for _ in range(5_000):
                ws.sock.sendall(frame(0, b"", fin=False))
                sent += 1
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert close_code_within(ws, 5) == 1008
        ws.close()
        limit = server.metric('hexfleet_limit{name="ws_max_fragments_per_message"}')
        assert limit and limit < 5_000
        assert eventually(lambda: (server.metric("hexfleet_ws_flood_closes_total") or 0) >= 1)
        assert server.request("GET", "/healthz")[0] == 200


def test_websocket_pings_forever_are_cut_off_with_1008():
    with Server() as server:
        ws = RawWebSocket(f"/v1/ws/track?token={server.admin}", address=server.http)
        assert ws.status == 101
        stop = threading.Event()

        def pinger():
            try:
                while not stop.is_set():
                    ws.sock.sendall(frame(9, b"are you there"))
            except OSError:
                pass
        t = threading.Thread(target=pinger, daemon=True)
        t.start()
        code, pongs = None, 0
        try:
            ws.sock.settimeout(5)
            while code is None:
                opcode, payload = ws.read_frame()
                if opcode == 10:
                    pongs += 1
                elif opcode == 8:
                    code = struct.unpack("!H", payload[:2])[0]
        finally:
            stop.set()
            t.join(5)
            ws.close()
        assert code == 1008
        assert pongs <= server.metric('hexfleet_limit{name="ws_max_control_frames_per_second"}')
        assert eventually(lambda: (server.metric("hexfleet_ws_flood_closes_total") or 0) >= 1)


def test_a_request_head_sent_one_byte_at_a_time_times_out_with_408():
    with Server("--header-timeout-ms", "600") as server:
        host, port = server.http.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as s:
            started = time.time()
            answer = b""
            for byte in b"GET /healthz HTTP/1.1\r\nHost: slow-client.example\r\n\r\n":
                try:
                    s.sendall(bytes([byte]))
                except OSError:
                    break
                time.sleep(0.05)
                s.setblocking(False)
                try:
                    answer += s.recv(4096)
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
                if answer:
                    break
            assert answer.startswith(b"HTTP/1.1 408"), answer
            assert b"request_timeout" in answer + s.recv(4096)
            assert time.time() - started < 3
        assert eventually(lambda: (server.metric("hexfleet_http_timeouts_total") or 0) >= 1)
        assert server.metric('hexfleet_limit{name="header_timeout_ms"}') == 600
