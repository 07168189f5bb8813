"""The platform's own JWTs against the real binary: keys made here (an HS256 secret file, an RS256 PEM public key,
an ES256 key in a JWKS with kid), tokens minted by PyJWT, every role, and each refusal's stable code; then a
customer JWT orders for a UUID customer and a driver JWT fetches its UDP key and sends a ping that is accepted."""
import json
import os
import secrets
import socket
import subprocess
import tempfile
import time

import pytest

jwt = pytest.importorskip("jwt")
pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

from hexfleet_client import http, eventually, record, now_ms  # noqa: E402

ISSUER = "https://id.platform.test"
AUDIENCE = "hexfleet-api"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url_uint(n, length):
    import base64
    return base64.urlsafe_b64encode(n.to_bytes(length, "big")).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def server():
    binary = os.environ.get("HEXFLEET_BIN")
    if not binary:
        pytest.skip("HEXFLEET_BIN (set by scripts/test-python) names the hexfleet binary")
    work = tempfile.mkdtemp(prefix="hexfleet-jwt-")
    hs_secret = secrets.token_hex(32).encode()   # printable, as shared secrets are kept in practice
    with open(f"{work}/hs256.secret", "wb") as f:
        f.write(hs_secret + b"\n")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(f"{work}/rs256.pem", "wb") as f:
        f.write(rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    ec_key = ec.generate_private_key(ec.SECP256R1())
    numbers = ec_key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "platform-es-1",
                      "x": b64url_uint(numbers.x, 32), "y": b64url_uint(numbers.y, 32)}]}
    with open(f"{work}/jwks.json", "w") as f:
        json.dump(jwks, f)
    udp_secret = secrets.token_hex(32)
    http_address = f"127.0.0.1:{free_port(socket.SOCK_STREAM)}"
    udp_address = f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
    env = dict(os.environ, HEXFLEET_UDP_SECRET=udp_secret, HEXFLEET_TOKEN_SECRET=secrets.token_hex(32))
    env.pop("HEXFLEET_ADMIN_TOKEN", None)
    os.makedirs(f"{work}/data")
    log = open(f"{work}/serve.log", "w")
    proc = subprocess.Popen(
        [binary, "serve", "--http", http_address, "--udp", udp_address, "--no-demo", "--log-level", "warning",
         "--data", f"{work}/data", "--graph", f"{REPO}/fixtures/monaco.osm.pbf",
         "--jwt-key", f"{work}/hs256.secret", "--jwt-key", f"{work}/rs256.pem", "--jwt-key", f"{work}/jwks.json",
         "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE],
        env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + float(os.environ.get("HEXFLEET_START_TIMEOUT", "120"))
    while time.time() < deadline:
        assert proc.poll() is None, open(f"{work}/serve.log").read()
        try:
            if http("GET", "/healthz", address=http_address)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("hexfleet serve with --jwt-key did not come up: " + open(f"{work}/serve.log").read())
    signers = {
        "HS256": (hs_secret, None),
        "RS256": (rsa_key, None),
        "ES256": (ec_key, "platform-es-1"),
    }
    yield {"http": http_address, "udp": udp_address, "signers": signers, "udp_secret": bytes.fromhex(udp_secret)}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def mint(server, alg, role="customer", sub="7c0e9a52-3d4b-4f6a-8e1d-2b3c4d5e6f70", key=None, **overrides):
    now = int(time.time())
    claims = {"sub": sub, "role": role, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now - 5, "exp": now + 600}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    signing_key, kid = server["signers"][alg]
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, key if key is not None else signing_key, algorithm=alg, headers=headers)


def call(server, method, path, token, body=None):
    return http(method, path, body, token=token, address=server["http"])


ALGORITHMS = ["HS256", "RS256", "ES256"]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_every_role_is_accepted(server, alg):
    for role, sub in [("driver", "4242"), ("customer", "cust-42"), ("dispatcher", "ops.eu"), ("admin", "root@platform")]:
        status, body = call(server, "GET", "/v1/orders?limit=1", mint(server, alg, role=role, sub=sub))
        assert status == 200, (alg, role, body)


def other_key(alg):
    if alg == "HS256":
        return secrets.token_hex(32).encode()
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_refusals_have_distinct_codes(server, alg):
    now = int(time.time())
    cases = [
        ("token_bad_signature", mint(server, alg, key=other_key(alg))),
        ("token_expired", mint(server, alg, exp=now - 120, nbf=now - 600)),
        ("token_not_yet_valid", mint(server, alg, nbf=now + 600)),
        ("token_wrong_audience", mint(server, alg, aud="someone-else")),
        ("token_wrong_issuer", mint(server, alg, iss="https://evil.test")),
        ("token_unknown_role", mint(server, alg, role="pilot")),
    ]
    for code, token in cases:
        status, body = call(server, "GET", "/v1/orders?limit=1", token)
        assert status == 401 and body["error"]["code"] == code, (alg, code, status, body)


def test_malformed_token(server):
    for token in ["eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "eyJ.e30.e30"]:
        status, body = call(server, "GET", "/v1/orders?limit=1", token)
        assert status == 401 and body["error"]["code"] == "token_malformed", body
    status, body = call(server, "GET", "/v1/orders?limit=1", "hf1.customer.x.1.bad")
    assert status == 401 and body["error"]["code"] == "invalid_token", "the engine's own tokens keep their code"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_uuid_customer_orders_with_its_jwt(server, alg):
    customer = "6f1d2c3b-4a59-4e8d-9c7b-%012x" % secrets.randbits(48)
    token = mint(server, alg, role="customer", sub=customer)
    order = {"pickup": {"lat": 43.7384, "lng": 7.4246}, "dropoff": {"lat": 43.7311, "lng": 7.4197}}
    status, body = call(server, "POST", "/v1/orders", token, order)
    assert status == 201, body
    assert body["customer_id"] == customer
    status, got = call(server, "GET", f"/v1/orders/{body['id']}", token)
    assert status == 200 and got["customer_id"] == customer, got
    status, listed = call(server, "GET", "/v1/orders", token)
    assert [o["customer_id"] for o in listed["orders"]] == [customer], listed
    status, body = call(server, "POST", "/v1/orders", token, dict(order, customer_id="someone-else"))
    assert status == 403, body
    admin = mint(server, alg, role="admin", sub="root")
    status, body = call(server, "POST", "/v1/orders", admin, dict(order, customer_id="not valid!"))
    assert status == 400 and body["error"]["code"] == "invalid_customer_id", body


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_driver_jwt_gets_its_udp_key_and_pings(server, alg):
    import hashlib
    import hmac
    import struct
    driver = 700 + ALGORITHMS.index(alg)
    status, body = call(server, "POST", "/v1/auth/udp-key", mint(server, alg, role="driver", sub=str(driver)))
    assert status == 200, body
    assert body["driver_id"] == driver
    key = bytes.fromhex(body["udp_key"])
    assert key == hmac.new(server["udp_secret"], f"driver:{driver}".encode(), hashlib.sha256).digest()
    status, body = call(server, "POST", "/v1/auth/udp-key", mint(server, alg, role="customer", sub="c-1"))
    assert status == 403, body

    header = struct.pack("<BBHIQ", 1, 0, 1, 0, driver)
    datagram = header + record(driver, now_ms(), 43.7384, 7.4246)
    datagram += hmac.new(key, datagram, hashlib.sha256).digest()[:16]
    host, port = server["udp"].rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(datagram, (host, int(port)))
    admin = mint(server, alg, role="admin", sub="root")
    assert eventually(lambda: call(server, "GET", f"/v1/drivers/{driver}", admin)[0] == 200), "the signed ping was accepted"
    status, state = call(server, "GET", f"/v1/drivers/{driver}", admin)
    assert abs(state["lat"] - 43.7384) < 1e-6 and state["status"] == "available", state


def test_unusable_key_file_stops_the_start_naming_it():
    binary = os.environ.get("HEXFLEET_BIN")
    if not binary:
        pytest.skip("HEXFLEET_BIN (set by scripts/test-python) names the hexfleet binary")
    with tempfile.NamedTemporaryFile("wb", suffix=".pem") as f:
        f.write(ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        f.flush()
        run = subprocess.run([binary, "serve", "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--no-demo",
                              "--jwt-key", f.name], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0, run.stderr
    assert f.name in run.stderr and "private key" in run.stderr, run.stderr
