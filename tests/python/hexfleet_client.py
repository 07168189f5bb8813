"""Helpers for the Python suites: the UDP datagram (DESIGN.md, version 1), tokens over HTTP, metrics, and a raw
WebSocket client for the cases the `websockets` library will not produce (a reader that stalls, bad UTF-8)."""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import time
import urllib.error
import urllib.request

HTTP = os.environ.get("HEXFLEET_HTTP", "127.0.0.1:8080")
UDP = os.environ.get("HEXFLEET_UDP", "127.0.0.1:9090")
DEMO_HTTP = os.environ.get("HEXFLEET_DEMO_HTTP", HTTP)
DEMO_UDP = os.environ.get("HEXFLEET_DEMO_UDP", UDP)
ADMIN = os.environ.get("HEXFLEET_ADMIN_TOKEN", "")
UDP_SECRET = bytes.fromhex(os.environ.get("HEXFLEET_UDP_SECRET", "00" * 32))

STATUS = {"offline": 0, "available": 1, "to_pickup": 2, "on_trip": 3, "break": 4}


def now_ms():
    return int(time.time() * 1000)


def driver_key(driver_id):
    return hmac.new(UDP_SECRET, f"driver:{driver_id}".encode(), hashlib.sha256).digest()


def gateway_key(gateway_id):
    return hmac.new(UDP_SECRET, f"gateway:{gateway_id}".encode(), hashlib.sha256).digest()


def record(driver_id, ts, lat, lng, status="available", speed=0, heading=65535, accuracy=65535):
    """One 32-byte record, little-endian, as in the datagram and the binary driver frames."""
    return struct.pack("<QqiiHHHBB", driver_id, ts, round(lat * 1e7), round(lng * 1e7), speed, heading, accuracy,
                       STATUS[status], 0)


def datagram(records, signer, gateway=False):
    """A signed datagram: 16-byte header, records, first 16 bytes of HMAC-SHA256(key, header ‖ records)."""
    header = struct.pack("<BBHIQ", 1, 1 if gateway else 0, len(records), 0, signer)
    body = header + b"".join(records)
    key = gateway_key(signer) if gateway else driver_key(signer)
    return body + hmac.new(key, body, hashlib.sha256).digest()[:16]


def send_udp(datagrams, address=None):
    host, port = (address or UDP).rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in datagrams:
            s.sendto(d, (host, int(port)))


def http(method, path, body=None, token=None, address=None):
    """(status, parsed JSON or text) of one request."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{address or HTTP}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def token(role, subject):
    status, body = http("POST", "/v1/auth/token", {"role": role, "subject": subject}, token=ADMIN)
    assert status == 201, body
    return body["token"]


def metric(series, address=None):
    """The value of one /metrics series such as `hexfleet_ws_evictions_total`, or None."""
    _, text = http("GET", "/metrics", address=address)
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def eventually(condition, within=10.0, step=0.02):
    deadline = time.time() + within
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


class RawWebSocket:
    """A blocking client over a plain socket: handshake, masked frames, close codes. SO_RCVBUF can be set
    before connecting, so a reader that stops reading makes the server's queue grow at once."""

    def __init__(self, path, address=None, receive_buffer=None, timeout=10):
        host, port = (address or HTTP).rsplit(":", 1)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])

    def send_frame(self, opcode, payload):
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        self.send_frame(1, text.encode() if isinstance(text, str) else text)

    def _take(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read_frame(self):
        """(opcode, payload) of the next frame."""
        b0, b1 = self._take(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8))[0]
        return b0 & 0x0F, self._take(n)

    def read_close_code(self):
        while True:
            opcode, payload = self.read_frame()
            if opcode == 8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005

    def read_json(self, type_=None):
        while True:
            opcode, payload = self.read_frame()
            if opcode == 8:
                raise ConnectionError(f"closed with {struct.unpack('!H', payload[:2])[0]}")
            if opcode == 1:
                m = json.loads(payload)
                if type_ is None or m.get("type") == type_:
                    return m

    def close(self):
        self.sock.close()
