"""Fence transitions against an independent reference: shapely (polygons, segments) and h3 (cells) decide what
each random trajectory should fire, and the engine's `/v1/ws/events` must deliver exactly that, in order, per
driver and fence: no event missing, none extra. Also: dwell suppresses jitter storms, expired fences fire nothing.

Geometry conventions the reference shares with the engine (docs/fences.md): a circle holds points within its
radius by great-circle distance; polygons and segments are straight in latitude/longitude, taken the short way
across the antimeridian; a cell set holds the points whose cell is listed. Steps that would land within a couple
of meters of a boundary are redrawn, so rounding on either side cannot decide a case."""
import math
import os
import random
import socket
import time

import h3
import pytest
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from hexfleet_client import ADMIN, RawWebSocket, datagram, http, now_ms, record, send_udp

R = 6_371_008.8
EPS_DEG = 3e-5          # ~3 m: the band around a boundary where a point or segment is redrawn
SEED = int(os.environ.get("HEXFLEET_FENCE_SEED", random.randrange(1 << 30)))


def wrap(x):
    while x > 180:
        x -= 360
    while x <= -180:
        x += 360
    return x


def haversine(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * R * math.asin(min(1, math.sqrt(h)))


def offset(p, north_m, east_m):
    lat = p[0] + north_m / R * 180 / math.pi
    lng = wrap(p[1] + east_m / (R * math.cos(math.radians(p[0]))) * 180 / math.pi)
    return (lat, lng)


class Circle:
    def __init__(self, fid, centre, radius):
        self.id, self.centre, self.radius = fid, centre, radius
        self.body = {"id": fid, "shape": {"type": "circle", "center": {"lat": centre[0], "lng": centre[1]},
                                          "radius_m": radius}}

    def contains(self, p):
        d = haversine(self.centre, p)
        if abs(d - self.radius) < 3:
            return None
        return d <= self.radius

    def segment(self, a, b):
        # Equirectangular meters around the centre: affine in lat/lng, so the segment stays straight.
        k = math.cos(math.radians(self.centre[0])) * R * math.pi / 180
        m = R * math.pi / 180
        ax, ay = wrap(a[1] - self.centre[1]) * k, (a[0] - self.centre[0]) * m
        bx, by = ax + wrap(b[1] - a[1]) * k, ay + (b[0] - a[0]) * m
        d = LineString([(ax, ay), (bx, by)]).distance(Point(0, 0))
        if abs(d - self.radius) < 3:
            return None
        return d <= self.radius


class Area:
    """A polygon (with holes) or a union of cell polygons, in (lng, lat) unwrapped around `ref`."""

    def __init__(self, fid, body, geometry, ref, cells=None):
        self.id, self.body, self.geom, self.ref, self.cells = fid, body, geometry, ref, cells
        self.inner, self.outer = geometry.buffer(-EPS_DEG), geometry.buffer(EPS_DEG)

    def xy(self, p):
        return (self.ref + wrap(p[1] - self.ref), p[0])

    def contains(self, p):
        q = Point(self.xy(p))
        if self.inner.contains(q) != self.outer.contains(q):
            return None
        if self.cells is not None:
            return any(h3.latlng_to_cell(p[0], p[1], r) in self.cells for r in {h3.get_resolution(c) for c in self.cells})
        return self.geom.contains(q)

    def segment(self, a, b):
        ax, ay = self.xy(a)
        line = LineString([(ax, ay), (ax + wrap(b[1] - a[1]), b[0])])
        strict, loose = line.intersects(self.inner), line.intersects(self.outer)
        return strict if strict == loose else None


def polygon_with_hole(fid, centre, rng):
    w, h = rng.uniform(300, 500), rng.uniform(200, 500)
    corners = [offset(centre, -h, -w), offset(centre, -h, w), offset(centre, h, w), offset(centre, h, -w)]
    hole = [offset(centre, -h / 3, -w / 3), offset(centre, -h / 3, w / 3), offset(centre, h / 3, w / 3), offset(centre, h / 3, -w / 3)]
    ref = corners[0][1]
    un = lambda ring: [(ref + wrap(p[1] - ref), p[0]) for p in ring]
    body = {"id": fid, "shape": {"type": "polygon", "rings": [[list(p) for p in corners], [list(p) for p in hole]]}}
    return Area(fid, body, Polygon(un(corners), [un(hole)]), ref)


def cell_set(fid, centre, rng):
    c = h3.latlng_to_cell(centre[0], centre[1], 9)
    cells = sorted(h3.grid_disk(c, rng.choice([0, 1, 2])))
    ref = centre[1]
    polys = [Polygon([(ref + wrap(lng - ref), lat) for lat, lng in h3.cell_to_boundary(x)]) for x in cells]
    body = {"id": fid, "shape": {"type": "cells", "cells": cells}}
    return Area(fid, body, unary_union(polys), ref, set(cells))


def walk(start, steps, fences, rng):
    """A random walk of `steps` pings from `start`, 20–300 m a step, no ping or segment ambiguous for any fence."""
    points = [start]
    heading = rng.uniform(0, 2 * math.pi)
    while len(points) < steps:
        for _ in range(100):
            h = heading + rng.uniform(-0.8, 0.8)
            d = rng.uniform(20, 300)
            p = offset(points[-1], d * math.cos(h), d * math.sin(h))
            if all(f.contains(p) is not None and f.segment(points[-1], p) is not None for f in fences):
                heading = h
                points.append(p)
                break
        else:
            heading += math.pi
    return points


def expected(points, fence):
    out = []
    for a, b in zip(points, points[1:]):
        was, now = fence.contains(a), fence.contains(b)
        if not was and now:
            out.append("enter")
        elif was and not now:
            out.append("exit")
        elif not was and not now and fence.segment(a, b):
            out.append("cross")
    return out


def subscribe(ids):
    ws = RawWebSocket(f"/v1/ws/events?token={ADMIN}", timeout=5)
    assert ws.status == 101
    ws.send_text('{"op":"subscribe","fences":%s}' % str(list(ids)).replace("'", '"'))
    ws.read_json("subscribed")
    return ws


def collect(ws, want, settle=1.0):
    """Fence events until `want` arrived and nothing more came for `settle` seconds."""
    got = []
    deadline = time.time() + 30
    ws.sock.settimeout(settle)
    while time.time() < deadline:
        try:
            got.append(ws.read_json("fence"))
        except (socket.timeout, TimeoutError):
            if len(got) >= want:
                break
    return got


def drive(trajectories, start_ts, step_ms=200):
    rounds = max(len(t) for t in trajectories.values())
    for i in range(rounds):
        grams = [datagram([record(d, start_ts + i * step_ms, *pts[i])], d) for d, pts in trajectories.items() if i < len(pts)]
        send_udp(grams)
        time.sleep(0.004)


def create(body):
    status, answer = http("POST", "/v1/fences", {**body, "detect": body.get("detect", ["enter", "exit", "cross"])}, token=ADMIN)
    assert status == 201, answer


def test_random_trajectories_match_shapely_and_h3():
    rng = random.Random(SEED)
    print("seed", SEED)
    tag = f"t{SEED}-{rng.randrange(1 << 20)}"
    bases = {"helsinki": (60.17, 24.94), "fiji": (-16.5, 179.9995)}   # the second straddles the antimeridian
    fences, trajectories = [], {}
    for city, base in bases.items():
        for k in range(3):
            c = offset(base, rng.uniform(-600, 600), rng.uniform(-600, 600))
            fences.append(Circle(f"{tag}-{city}-circle{k}", c, rng.uniform(80, 300)))
        for k in range(4):   # small ones, which a long step can pass through without a ping inside
            c = offset(base, rng.uniform(-500, 500), rng.uniform(-500, 500))
            fences.append(Circle(f"{tag}-{city}-small{k}", c, rng.uniform(15, 40)))
        fences.append(polygon_with_hole(f"{tag}-{city}-poly", offset(base, rng.uniform(-200, 200), rng.uniform(-100, 100)), rng))
        fences.append(cell_set(f"{tag}-{city}-cells", offset(base, rng.uniform(-400, 400), rng.uniform(-400, 400)), rng))
    fiji_poly = fences[[f.id for f in fences].index(f"{tag}-fiji-poly")]
    xs = [x for x, _ in fiji_poly.geom.exterior.coords]
    assert min(xs) < 180 < max(xs) or min(xs) < -180 < max(xs), "the Fiji polygon straddles the antimeridian"
    for f in fences:
        create(f.body)
    ws = subscribe([f.id for f in fences])
    first_driver = rng.randrange(1 << 40, 1 << 41)
    # 40 walks, and more (up to 200) while the draw has no `cross` yet (a rare draw passes through no small fence):
    # the check must see every kind of transition.
    for n in range(200):
        city = list(bases)[n % 2]
        local = [f for f in fences if city in f.id]
        start = offset(bases[city], rng.uniform(-900, 900), rng.uniform(-900, 900))
        while any(f.contains(start) is None for f in local):
            start = offset(start, rng.uniform(-10, 10), rng.uniform(-10, 10))
        trajectories[first_driver + n] = walk(start, 50, local, rng)
        new_walks = range(n + 1) if n == 39 else [n]
        if n >= 39 and any("cross" in expected(trajectories[first_driver + m], f) for m in new_walks for f in fences):
            break

    want = {(d, f.id): expected(pts, f) for d, pts in trajectories.items() for f in fences}
    want = {k: v for k, v in want.items() if v}
    total = sum(len(v) for v in want.values())
    kinds = {k: sum(v.count(k) for v in want.values()) for k in ("enter", "exit", "cross")}
    print("expected transitions", kinds, "walks", len(trajectories))
    assert kinds["enter"] > 5 and kinds["exit"] > 5 and kinds["cross"] > 0, f"seed {SEED}: too few transitions {kinds}"
    drive(trajectories, now_ms() - 20_000)
    got = {}
    for e in collect(ws, total):
        got.setdefault((e["driver"], e["fence"]), []).append(e["event"])
    ws.close()
    missing = {k: v for k, v in want.items() if got.get(k) != v}
    extra = {k: v for k, v in got.items() if k not in want}
    assert not missing and not extra, f"seed {SEED}: differs for {len(missing)} pairs, {len(extra)} unexpected; " \
        f"first: {list(missing.items())[:3]} got {[got.get(k) for k in list(missing)[:3]]}; extra {list(extra.items())[:3]}"


def test_dwell_suppresses_jitter_and_fires_once():
    rng = random.Random(SEED + 1)
    fid = f"dwell-{rng.randrange(1 << 30)}"
    centre = (60.2, 24.9)
    body = {"id": fid, "shape": {"type": "circle", "center": {"lat": centre[0], "lng": centre[1]}, "radius_m": 100},
            "dwell_s": 2}
    create(body)
    ws = subscribe([fid])
    driver = rng.randrange(1 << 41, 1 << 42)
    inside, outside = offset(centre, 0, 60), offset(centre, 0, 140)
    t0 = now_ms() - 25_000
    pings = [outside] + [inside if i % 2 else outside for i in range(1, 21)]   # 20 s of 1 s jitter... at 250 ms a ping
    pings += [inside] * 12 + [outside] * 12                                        # then 3 s inside, 3 s outside
    send_udp([datagram([record(driver, t0 + i * 250, *p)], driver) for i, p in enumerate(pings)])
    got = [e["event"] for e in collect(ws, 2)]
    ws.close()
    assert got == ["enter", "exit"], f"seed {SEED}: {got}"


def test_expired_fence_fires_nothing_and_is_removed():
    rng = random.Random(SEED + 2)
    fid = f"expiring-{rng.randrange(1 << 30)}"
    centre = (60.21, 24.95)
    create({"id": fid, "shape": {"type": "circle", "center": {"lat": centre[0], "lng": centre[1]}, "radius_m": 100},
            "expires_at_ms": now_ms() + 1_000})
    ws = subscribe([fid])
    time.sleep(1.5)
    driver = rng.randrange(1 << 42, 1 << 43)
    t0 = now_ms() - 5_000
    path = [offset(centre, 0, 300), centre, offset(centre, 0, -300), centre]
    send_udp([datagram([record(driver, t0 + i * 500, *p)], driver) for i, p in enumerate(path)])
    assert collect(ws, 0, settle=1.0) == []
    ws.close()
    deadline = time.time() + 5
    while time.time() < deadline and http("GET", f"/v1/fences/{fid}", token=ADMIN)[0] != 404:
        time.sleep(0.05)
    assert http("GET", f"/v1/fences/{fid}", token=ADMIN)[0] == 404


@pytest.mark.parametrize("body, code", [
    ({"shape": {"type": "circle", "center": {"lat": 1, "lng": 1}, "radius_m": 0}}, "invalid_radius"),
    ({"shape": {"type": "polygon", "rings": [[[0, 0], [1, 1]]]}}, "invalid_shape"),
    ({"id": "x" * 65, "shape": {"type": "circle", "center": {"lat": 1, "lng": 1}, "radius_m": 5}}, "invalid_fence_id"),
    ({"shape": {"type": "circle", "center": {"lat": 1, "lng": 1}, "radius_m": 5}, "meta": {"k": "v" * 5000}}, "meta_too_large"),
    ({"shape": {"type": "circle", "center": {"lat": 1, "lng": 1}, "radius_m": 5}, "detect": ["sideways"]}, "invalid_detect"),
    ({"shape": {"type": "circle", "center": {"lat": 1, "lng": 1}, "radius_m": 5}, "expires_at_ms": 1}, "invalid_expires"),
])
def test_bad_fences_are_400_with_a_code(body, code):
    status, answer = http("POST", "/v1/fences", body, token=ADMIN)
    assert status == 400 and answer["error"]["code"] == code, answer
