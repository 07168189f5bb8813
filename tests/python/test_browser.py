"""The live map in headless Chromium, driven over the DevTools protocol with the `websockets` client: load `/` from
the --demo server (public tracking, no token) looking at a region 70 km from Monaco, where the demo fleet (which
drives Monaco's roads) never goes; feed the test's own twenty drivers there over UDP, and check in the pixels of a
screenshot that a driver is drawn at each sent position — and only ours (`window.hexfleet`, `data-drivers`); then move
every driver, and check that each is drawn at its new position and no longer at its old one. Last, opened without a
view, the page fits the city's road network."""
import asyncio
import base64
import itertools
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request
import zlib

import pytest
import websockets

from hexfleet_client import DEMO_HTTP, DEMO_UDP, datagram, now_ms, record, send_udp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CENTER = (43.7350, 7.4200)      # Monaco: the demo city, whose roads the page fits without a view
REGION = (44.2900, 8.1100)      # the test's drivers: inland Liguria, off the demo's road graph
DRIVERS = 20
MOVE = (0.0015, 0.0025)         # degrees; about 24 px up and 29 px right at zoom 14, further than a dot's diameter
AVAILABLE = (0x2E, 0x9D, 0x57)   # the page's colour for "available"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png_pixels(data):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG, unfiltered."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    assert depth == 8 and color in (2, 6)
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def sent_position(i, moved):
    """Where driver i is sent: a 5 × 4 grid around REGION (about 65 px × 58 px apart at zoom 14), shifted by MOVE."""
    lat = REGION[0] + 0.004 * ((i % 5) - 2) + (MOVE[0] if moved else 0)
    lng = REGION[1] + 0.005 * ((i // 5) - 1.5) + (MOVE[1] if moved else 0)
    return lat, lng


class Feeder(threading.Thread):
    """The test's drivers at their sent positions (moved or not), a fix each every 200 ms, until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.moved = False

    def run(self):
        while not self.stop.is_set():
            t, moved = now_ms(), self.moved
            recs = [record(9000 + i, t, *sent_position(i, moved)) for i in range(DRIVERS)]
            send_udp([datagram(recs, 99, gateway=True)], address=DEMO_UDP)
            time.sleep(0.2)


def project(lat, lng):
    """Web Mercator in world units (0…1), as the page's project()."""
    s = math.sin(max(-85.05, min(85.05, lat)) * math.pi / 180)
    return (lng + 180) / 360, 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def to_screen(lat, lng, view):
    """Canvas pixel of a position under the page's view (centre, zoom, canvas size), as the page's toScreen()."""
    x, y = project(lat, lng)
    vx, vy = project(view["lat"], view["lng"])
    s = 256 * 2 ** view["zoom"]
    return (x - vx) * s + view["width"] / 2, (y - vy) * s + view["height"] / 2


def is_available(rows, bpp, x, y):
    px = rows[y][x * bpp:x * bpp + 3]
    return all(abs(px[k] - AVAILABLE[k]) < 12 for k in range(3))


def misplaced(shot, view, moved):
    """Drivers not drawn where they were sent: the 'available' colour must fill the sent pixel and the pixels 2 px
    around it; with `moved`, the old position must no longer be in that colour. Returns descriptions (empty: all in
    place)."""
    width, height, bpp, rows = png_pixels(shot)
    bad = []
    for i in range(DRIVERS):
        lat, lng = sent_position(i, moved)
        sx, sy = (round(v) for v in to_screen(lat, lng, view))
        spots = [(sx, sy), (sx - 2, sy), (sx + 2, sy), (sx, sy - 2), (sx, sy + 2)]
        if not all(0 <= x < width and 0 <= y < height and is_available(rows, bpp, x, y) for x, y in spots):
            bad.append(f"driver {9000 + i} sent to {lat:.5f},{lng:.5f} is not drawn at pixel {sx},{sy}")
        if moved:
            ox, oy = (round(v) for v in to_screen(*sent_position(i, False), view))
            if 0 <= ox < width and 0 <= oy < height and is_available(rows, bpp, ox, oy):
                bad.append(f"driver {9000 + i} is still drawn at its old pixel {ox},{oy}")
    return bad


@pytest.mark.skipif(os.environ.get("HEXFLEET_SKIP_BROWSER") is not None, reason="HEXFLEET_SKIP_BROWSER is set")
def test_live_map_draws_own_drivers_where_sent_and_moves_them():
    assert CHROMIUM, "chromium is not installed (scripts/test-python installs it; HEXFLEET_SKIP_BROWSER=1 skips this test)"
    feeder = Feeder()
    feeder.start()
    port = free_port()
    profile = tempfile.mkdtemp()
    url = f"http://{DEMO_HTTP}/#{REGION[0]},{REGION[1]},14"
    browser = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=800,600",
                                f"--remote-debugging-port={port}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        target = None
        deadline = time.time() + 30
        while target is None and time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    pages = [p for p in json.load(r) if p.get("type") == "page"]
                    target = pages[0]["webSocketDebuggerUrl"] if pages else None
            except OSError:
                time.sleep(0.2)
        assert target, "chromium did not expose a page target"
        result = asyncio.run(asyncio.wait_for(drive(target, url, feeder), 90))
    finally:
        feeder.stop.set()
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)

    state, moved = result["state"], result["moved"]
    assert state["connected"] is True, state
    # Only the test's drivers are in this region: the page draws exactly them, and says so.
    assert state["driversDrawn"] == DRIVERS, state
    assert state["dataDrivers"] == str(DRIVERS), state
    assert result["placed"] == [], "\n".join(result["placed"])
    assert moved["driversDrawn"] == DRIVERS, moved
    assert result["movedPlaced"] == [], "\n".join(result["movedPlaced"])
    fit = result["fitView"]
    assert fit and fit["zoom"] > 8 and abs(fit["lat"] - CENTER[0]) < 0.5 and abs(fit["lng"] - CENTER[1]) < 0.5, fit


async def drive(target, url, feeder):
    async with websockets.connect(target, max_size=None) as cdp:
        ids = itertools.count(1)

        async def call(method, **params):
            i = next(ids)
            await cdp.send(json.dumps({"id": i, "method": method, "params": params}))
            while True:
                m = json.loads(await cdp.recv())
                if m.get("id") == i:
                    if "error" in m:
                        raise AssertionError(m["error"])
                    return m.get("result", {})

        async def evaluate(expression):
            r = await call("Runtime.evaluate", expression=expression, returnByValue=True)
            return r.get("result", {}).get("value")

        probe = ("JSON.stringify(window.hexfleet ? Object.assign({dataDrivers: document.body.dataset.drivers, "
                 "width: document.getElementById('map').width, height: document.getElementById('map').height}, "
                 "window.hexfleet) : null)")

        async def settled(moved, seconds=20):
            """The page's state and the misplaced drivers, once all are in place or after `seconds`."""
            state, bad = None, ["the page did not expose window.hexfleet"]
            deadline = time.time() + seconds
            while time.time() < deadline:
                raw = await evaluate(probe)
                state = json.loads(raw) if raw else None
                if state and state["driversDrawn"] >= DRIVERS and state["view"]:
                    await asyncio.sleep(1.0)   # let the glide animation (0.9 s) settle on the drawn positions
                    raw = await evaluate(probe)
                    state = json.loads(raw)
                    view = dict(state["view"], width=state["width"], height=state["height"])
                    shot = await call("Page.captureScreenshot", format="png")
                    bad = misplaced(base64.b64decode(shot["data"]), view, moved)
                    if not bad:
                        break
                await asyncio.sleep(0.2)
            return state, bad

        await call("Page.enable")
        await call("Page.navigate", url=url)
        state, placed = await settled(moved=False)
        assert state, "the page did not expose window.hexfleet"
        feeder.moved = True
        moved, moved_placed = await settled(moved=True)
        # Opened without a view in the URL, the page must fit the city's road network by itself.
        await call("Page.navigate", url=url.split("#")[0] + "?fit")
        fit = None
        for _ in range(200):
            raw = await evaluate("JSON.stringify(window.hexfleet || null)")
            fit = json.loads(raw) if raw else None
            if fit and fit["roadsDrawn"] > 0 and fit["view"] and fit["view"]["zoom"] > 8:
                break
            await asyncio.sleep(0.1)
        return {"state": state, "placed": placed, "moved": moved, "movedPlaced": moved_placed,
                "fitView": fit["view"] if fit else None}
