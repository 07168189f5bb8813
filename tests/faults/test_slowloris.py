"""500 slowloris clients (one header byte a second each, reconnecting when the header timeout closes them) while a
normal client's requests keep answering within 100 ms at the 99th percentile. A timing check of the server under
abuse, so it lives here and not in the unit tests."""
import selectors
import socket
import threading
import time

from abuse_server import Server

SLOW_CLIENTS = 500
SECONDS = 20
HEAD = b"GET /healthz HTTP/1.1\r\nHost: slowloris.example\r\nX-Padding: " + b"a" * 4000 + b"\r\n\r\n"


def test_500_slowloris_clients_do_not_slow_a_normal_client():
    with Server("--header-timeout-ms", "10000") as server:
        host, port = server.http.rsplit(":", 1)
        address = (host, int(port))
        stop = threading.Event()
        stats = {"timed_out": 0, "bytes": 0, "open": 0}

        def slowloris():
            sel = selectors.DefaultSelector()
            clients = {}   # socket -> next byte index

            def open_one():
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(address)
                clients[s] = 0
                sel.register(s, selectors.EVENT_READ)
            for _ in range(SLOW_CLIENTS):
                open_one()
            while not stop.is_set():
                started = time.monotonic()
                for s in list(clients):
                    try:
                        s.send(HEAD[clients[s]:clients[s] + 1])
                        clients[s] += 1
                        stats["bytes"] += 1
                    except OSError:
                        pass
                # Whatever answered (a 408) or closed is replaced by a fresh slow client.
                for key, _ in sel.select(timeout=0):
                    s = key.fileobj
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    if data.startswith(b"HTTP/1.1 408") or not data:
                        stats["timed_out"] += 1
                        sel.unregister(s)
                        s.close()
                        del clients[s]
                        open_one()
                stats["open"] = len(clients)
                time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
            for s in clients:
                s.close()

        t = threading.Thread(target=slowloris, daemon=True)
        t.start()
        time.sleep(2)   # all 500 connected and sending
        latencies, failures = [], 0
        normal = socket.create_connection(address, timeout=5)
        deadline = time.time() + SECONDS
        while time.time() < deadline:
            started = time.perf_counter()
            normal.sendall(b"GET /healthz HTTP/1.1\r\nHost: normal\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = normal.recv(4096)
                if not chunk:
                    break
                answer += chunk
            latencies.append(time.perf_counter() - started)
            if not answer.startswith(b"HTTP/1.1 200"):
                failures += 1
            time.sleep(0.01)
        stop.set()
        t.join(10)
        normal.close()
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        p50 = latencies[len(latencies) // 2]
        print(f"slowloris: {len(latencies)} requests, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
              f"max {latencies[-1] * 1000:.1f} ms; slow clients timed out {stats['timed_out']}, "
              f"bytes trickled {stats['bytes']}")
        assert failures == 0
        assert stats["open"] >= SLOW_CLIENTS * 0.95, "the slow clients stayed connected"
        assert stats["timed_out"] >= SLOW_CLIENTS * 0.9, "the header timeout ended the slow clients"
        assert p99 < 0.100, f"p99 {p99 * 1000:.1f} ms"
        assert (server.metric("hexfleet_http_timeouts_total") or 0) >= SLOW_CLIENTS * 0.9
