"""POST /v1/match on the demo server (Monaco): a route from /v1/route, sampled every 30 m and blurred like GPS, must
match back to a path of about the route's length lying along the route (checked with shapely in a local metric
projection), and bad traces are refused with their 400 codes."""
import math
import random

import pytest
from shapely.geometry import LineString

from hexfleet_client import ADMIN, DEMO_HTTP, http

EARTH = 6_371_008.8
PAIRS = [((43.7384, 7.4246), (43.7311, 7.4197)), ((43.7502, 7.4363), (43.7275, 7.4155)),
         ((43.7311, 7.4197), (43.7440, 7.4290))]


def decode(text):
    """The encoded polyline algorithm (precision 5), written from its published description."""
    points, index, lat, lng = [], 0, 0, 0
    while index < len(text):
        deltas = []
        for _ in range(2):
            result, shift = 0, 0
            while True:
                b = ord(text[index]) - 63
                index += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20:
                    break
            deltas.append(~(result >> 1) if result & 1 else result >> 1)
        lat += deltas[0]
        lng += deltas[1]
        points.append((lat / 1e5, lng / 1e5))
    return points


def local(points, origin):
    """(x, y) meters east and north of origin: accurate to well under a meter across a city."""
    k = math.cos(math.radians(origin[0]))
    return [(math.radians(p[1] - origin[1]) * EARTH * k, math.radians(p[0] - origin[0]) * EARTH) for p in points]


def sample(points, spacing):
    out, carried = [points[0]], 0.0
    xy = local(points, points[0])
    for (a, b), (pa, pb) in zip(zip(points, points[1:]), zip(xy, xy[1:])):
        d = math.dist(pa, pb)
        s = spacing - carried
        while s <= d:
            f = s / d
            out.append((a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])))
            s += spacing
        carried = d - (s - spacing)
    out.append(points[-1])
    return out


def blur(p, sigma, rng):
    return (p[0] + math.degrees(rng.gauss(0, sigma) / EARTH),
            p[1] + math.degrees(rng.gauss(0, sigma) / (EARTH * math.cos(math.radians(p[0])))))


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("sigma", [0, 5])
def test_noisy_route_matches_back(pair, sigma):
    a, b = pair
    status, route = http("GET", f"/v1/route?from={a[0]},{a[1]}&to={b[0]},{b[1]}", token=ADMIN, address=DEMO_HTTP)
    assert status == 200, route
    geometry = decode(route["polyline"])
    rng = random.Random(hash((pair, sigma)) & 0xFFFF)
    fixes = [blur(p, sigma, rng) for p in sample(geometry, 30)]
    body = {"points": [{"lat": p[0], "lng": p[1], "ts": 1_700_000_000_000 + 3_000 * i} for i, p in enumerate(fixes)]}
    status, match = http("POST", "/v1/match", body, token=ADMIN, address=DEMO_HTTP)
    assert status == 200, match
    assert set(match) >= {"distance_m", "duration_s", "polyline", "matched", "confidence"}
    assert len(match["matched"]) == len(fixes)
    assert 0 < match["confidence"] <= 1
    assert abs(match["distance_m"] - route["distance_m"]) <= 0.03 * route["distance_m"], (match["distance_m"], route["distance_m"])
    ours = LineString(local(decode(match["polyline"]), geometry[0]))
    theirs = LineString(local(geometry, geometry[0]))
    # At least 90 % of the route lies within 5 m of the matched path, and the other way round.
    assert theirs.intersection(ours.buffer(5)).length >= 0.9 * theirs.length
    assert ours.intersection(theirs.buffer(5)).length >= 0.9 * ours.length
    for m in match["matched"]:
        assert m is not None and m["edge_offset_m"] >= 0


@pytest.mark.parametrize("body,code", [
    ({"points": []}, "empty_trace"),
    ({"points": [{"lat": 43.73, "lng": 7.42}] * 10_001}, "too_many_points"),
    ({"points": [{"lat": 91, "lng": 7.42}]}, "invalid_point"),
    ({"points": [{"lat": 43.73}]}, "invalid_point"),
    ({"points": [{"lat": 43.73, "lng": 7.42, "ts": 2_000}, {"lat": 43.731, "lng": 7.42, "ts": 1_000}]}, "non_monotonic_ts"),
])
def test_bad_traces_are_refused(body, code):
    status, answer = http("POST", "/v1/match", body, token=ADMIN, address=DEMO_HTTP)
    assert status == 400, answer
    assert answer["error"]["code"] == code
