"""The live map in headless Chromium, driven over the DevTools protocol with the `websockets` client: load `/` from
the --demo server (public tracking, no token) looking at a region 70 km from Monaco, where the demo fleet (which
drives Monaco's roads) never goes; feed the test's own twenty drivers there over UDP, and check in the pixels of a
screenshot that a driver is drawn at each sent position — and only ours (`window.hexfleet`, `data-drivers`); then move
every driver, and check that each is drawn at its new position and no longer at its old one. Last, opened without a
view, the page fits the city's road network."""
import asyncio
import base64
import contextlib
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

from hexfleet_client import ADMIN, DEMO_HTTP, DEMO_UDP, datagram, http, now_ms, record, send_udp

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


@contextlib.contextmanager
def chromium_page(width, height):
    """A headless Chromium with one blank page; yields the page's DevTools WebSocket URL."""
    port = free_port()
    profile = tempfile.mkdtemp()
    browser = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={width},{height}",
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
        yield target
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.skipif(os.environ.get("HEXFLEET_SKIP_BROWSER") is not None, reason="HEXFLEET_SKIP_BROWSER is set")
def test_live_map_draws_own_drivers_where_sent_and_moves_them():
    assert CHROMIUM, "chromium is not installed (scripts/test-python installs it; HEXFLEET_SKIP_BROWSER=1 skips this test)"
    feeder = Feeder()
    feeder.start()
    url = f"http://{DEMO_HTTP}/#{REGION[0]},{REGION[1]},14"
    try:
        with chromium_page(1100, 700) as target:   # the console's side bar takes 360 px of it
            result = asyncio.run(asyncio.wait_for(drive(target, url, feeder), 90))
    finally:
        feeder.stop.set()

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


# The dispatcher's console, on the demo server (Monaco, its fleet and its customers' orders).
MONACO_PICKUP = (43.7347, 7.4206)
MONACO_DROPOFF = (43.7396, 7.4270)


def hexagon(lat, lng, r=0.0025):
    return [[lat + r * math.sin(math.radians(a)), lng + 1.4 * r * math.cos(math.radians(a))] for a in range(0, 360, 60)]


# /v1/surge as the page will be answered (CDP Fetch interception): two surging zones and one at 1×, which is
# priced as normal and must be neither drawn nor labelled.
SURGE = {"zones": [
    {"cell": "893969ab0d3ffff", "multiplier": 1.8, "demand": 9, "supply": 2, "boundary": hexagon(43.7330, 7.4180)},
    {"cell": "893969ab0c7ffff", "multiplier": 1.0, "demand": 1, "supply": 6, "boundary": hexagon(43.7380, 7.4250)},
    {"cell": "893969ab1bbffff", "multiplier": 1.25, "demand": 4, "supply": 3, "boundary": hexagon(43.7430, 7.4300)},
]}


class DevTools:
    """A DevTools protocol session over one page: commands with replies, and handlers for events."""

    def __init__(self, ws):
        self.ws, self.ids, self.pending, self.handlers = ws, itertools.count(1), {}, {}
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            m = json.loads(raw)
            if "id" in m and m["id"] in self.pending:
                self.pending.pop(m["id"]).set_result(m)
            elif m.get("method") in self.handlers:
                asyncio.get_running_loop().create_task(self.handlers[m["method"]](m.get("params", {})))

    async def call(self, method, **params):
        i = next(self.ids)
        self.pending[i] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        m = await self.pending[i]
        if "error" in m:
            raise AssertionError(f"{method}: {m['error']}")
        return m.get("result", {})

    async def js(self, expression):
        r = await self.call("Runtime.evaluate", expression=f"JSON.stringify({expression})", returnByValue=True,
                            awaitPromise=True)
        raw = r.get("result", {}).get("value")
        return json.loads(raw) if raw is not None else None

    async def until(self, expression, what, seconds=20):
        """The value of `expression` once truthy; fails with the last value after `seconds`."""
        value, deadline = None, time.time() + seconds
        while time.time() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"{what}: still {value!r} after {seconds} s")

    async def click(self, x, y):
        await self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        await self.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", buttons=1, clickCount=1)
        await self.call("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left", buttons=0, clickCount=1)

    async def key(self, key, code, keycode, text=None):
        extra = {"text": text} if text else {}
        await self.call("Input.dispatchKeyEvent", type="keyDown", key=key, code=code, windowsVirtualKeyCode=keycode, **extra)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=keycode)


PANEL = ("({hidden: document.getElementById('panel').hidden, kind: document.getElementById('panel').dataset.kind, "
         "id: document.getElementById('panel').dataset.id, title: document.getElementById('panel-title').textContent, "
         "state: window.hexfleet.panel})")


def isolated_driver(drivers, width, height, margin=60, apart=30):
    """A driver drawn away from the map's edges and overlays and from every other driver, or None."""
    for d in drivers:
        if not (margin < d["x"] < width - margin and margin < d["y"] < height - margin):
            continue
        if all(o is d or math.hypot(o["x"] - d["x"], o["y"] - d["y"]) > apart for o in drivers):
            return d
    return None


@pytest.mark.skipif(os.environ.get("HEXFLEET_SKIP_BROWSER") is not None, reason="HEXFLEET_SKIP_BROWSER is set")
def test_console_lists_orders_opens_panels_and_labels_surge():
    assert CHROMIUM, "chromium is not installed (scripts/test-python installs it; HEXFLEET_SKIP_BROWSER=1 skips this test)"
    assert ADMIN, "HEXFLEET_ADMIN_TOKEN is not set"
    status, body = http("POST", "/v1/auth/token", {"role": "dispatcher", "subject": "console"}, token=ADMIN, address=DEMO_HTTP)
    assert status == 201, body
    dispatcher = body["token"]
    with chromium_page(1200, 800) as target:
        asyncio.run(asyncio.wait_for(console(target, dispatcher), 150))


async def console(target, dispatcher):
    base = f"http://{DEMO_HTTP}/"
    async with websockets.connect(target, max_size=None) as ws:
        page = DevTools(ws)
        await page.call("Page.enable")
        await page.call("Runtime.enable")

        # Without a token: the map works (public tracking in demo mode), the panel says how to get one.
        await page.call("Page.navigate", url=base)
        await page.until("window.hexfleet && window.hexfleet.connected && window.hexfleet.roadsDrawn > 0 && "
                         "window.hexfleet.driversDrawn > 10", "the demo fleet on the map", 40)
        auth = await page.js("({auth: document.body.dataset.auth, hidden: document.getElementById('auth-need').hidden, "
                             "text: document.getElementById('auth-need').innerText, rows: document.querySelectorAll('#orders li').length})")
        assert auth["auth"] == "none" and auth["hidden"] is False and auth["rows"] == 0, auth
        assert "token" in auth["text"] and "dispatcher" in auth["text"], auth

        # A token the engine refuses is said so in the panel, and the map goes on without it.
        await page.call("Page.navigate", url=base + "?refused#token=not-a-token")
        refused = await page.until("document.body.dataset.auth === 'refused' && document.getElementById('auth-why').textContent",
                                   "the refused token's message", 15)
        assert "refused" in refused and "invalid_token" in refused, refused
        await page.until("window.hexfleet.connected && window.hexfleet.driversDrawn > 10", "the map after a refused token", 20)

        # Drivers move: the demo fleet's dots change place on screen while the view stays put.
        before = {d["id"]: (d["x"], d["y"]) for d in await page.js("window.hexfleet.driversOnScreen()")}
        await asyncio.sleep(4)
        after = {d["id"]: (d["x"], d["y"]) for d in await page.js("window.hexfleet.driversOnScreen()")}
        moved = [i for i in before if i in after and math.dist(before[i], after[i]) > 1]
        assert len(moved) >= 3, f"only {len(moved)} of {len(before)} drivers moved in 4 s"

        # A click on a driver opens its panel (from the live feed: no token needed).
        size = await page.js("({w: document.getElementById('map').clientWidth, h: document.getElementById('map').clientHeight})")
        d = isolated_driver(await page.js("window.hexfleet.driversOnScreen()"), size["w"], size["h"])
        assert d, "no driver stands apart from the others to click"
        await page.click(d["x"], d["y"])
        p = await page.until(f"(() => {{ const p = {PANEL}; return p.state && p.state.loaded ? p : null; }})()",
                             "the driver panel after a click", 10)
        assert p["hidden"] is False and p["kind"] == "driver" and p["id"] == str(d["id"]), p
        assert p["title"] == f"Driver {d['id']}" and p["state"]["found"] is True, p

        # An order created through the API (the admin, for a UUID-like customer) appears in the list once the page
        # has a token, given in the URL fragment: kept in sessionStorage, gone from the address bar.
        status, order = http("POST", "/v1/orders", {"customer_id": "4242", "pickup": {"lat": MONACO_PICKUP[0], "lng": MONACO_PICKUP[1]},
                                                    "dropoff": {"lat": MONACO_DROPOFF[0], "lng": MONACO_DROPOFF[1]}},
                             token=ADMIN, address=DEMO_HTTP)
        assert status == 201, order
        oid = order["id"]
        await page.call("Page.navigate", url=base + "?console#token=" + dispatcher)
        await page.until(f"document.getElementById('order-{oid}') !== null", f"order {oid} in the list", 15)
        kept = await page.js("({stored: sessionStorage.getItem('hexfleet.token'), hash: location.hash, auth: document.body.dataset.auth, "
                             "have: !document.getElementById('auth-have').hidden})")
        assert kept["stored"] == dispatcher and "token" not in kept["hash"], kept
        assert kept["auth"] == "ok" and kept["have"] is True, kept
        row = await page.js(f"(() => {{ const li = document.getElementById('order-{oid}'); const r = li.getBoundingClientRect(); "
                            "return {x: r.x + r.width / 2, y: r.y + r.height / 2, text: li.textContent, "
                            "status: li.querySelector('.status').textContent}; })()")
        assert f"#{oid}" in row["text"] and row["status"] in ("created", "quoted", "dispatched", "accepted", "picked_up"), row

        # A click on its row opens its panel: details, the timeline from the event log, its route.
        await page.click(row["x"], row["y"])
        p = await page.until(f"(() => {{ const p = {PANEL}; return p.state && p.state.loaded && p.state.id === {oid} ? p : null; }})()",
                             "the order panel after a click", 10)
        assert p["hidden"] is False and p["kind"] == "order" and p["title"] == f"Order #{oid}" and p["state"]["found"] is True, p
        timeline = await page.js("Array.from(document.querySelectorAll('#timeline li'), (li) => li.dataset.to)")
        assert timeline[:2] == ["created", "quoted"], timeline
        assert timeline == p["state"]["timeline"], (timeline, p)
        legs = await page.until("window.hexfleet.panel && window.hexfleet.panel.routeLegs", "the order's route drawn", 15)
        assert legs >= 1, legs
        note = await page.js("document.getElementById('route-note').textContent")
        assert "km" in note, note

        # Keyboard: Esc closes, / focuses the search box, an id typed there opens its panel, ↓ and Enter walk the list.
        await page.key("Escape", "Escape", 27)
        assert await page.js("document.getElementById('panel').hidden") is True
        await page.key("/", "Slash", 191, text="/")
        assert await page.js("document.activeElement.id") == "search"
        await page.call("Input.insertText", text=f"d{d['id']}")
        await page.key("Enter", "Enter", 13, text="\r")
        p = await page.until(f"(() => {{ const p = {PANEL}; return p.state && p.state.loaded ? p : null; }})()",
                             "the driver panel from the search box", 10)
        assert p["kind"] == "driver" and p["id"] == str(d["id"]), p
        # With the token the driver panel lists its current orders; planned stops only where the engine plans
        # routes (GET /v1/drivers/{id}/route answers), else that section is hidden.
        sections = await page.js("({orders: document.getElementById('driver-orders') !== null, "
                                 "stops: document.getElementById('driver-stops') !== null})")
        route_status, _ = http("GET", f"/v1/drivers/{d['id']}/route", token=dispatcher, address=DEMO_HTTP)
        assert sections["orders"] is True and sections["stops"] is (route_status == 200), (sections, route_status)
        await page.key("Escape", "Escape", 27)
        cursor_probe = ("({cursor: window.hexfleet.listCursor, selected: Array.from(document.querySelectorAll('#orders li'))"
                        ".filter((li) => li.getAttribute('aria-selected') === 'true').map((li) => Number(li.dataset.order)), "
                        "rows: document.querySelectorAll('#orders li').length})")
        await page.key("ArrowDown", "ArrowDown", 40)
        first = await page.js(cursor_probe)
        await page.key("ArrowDown", "ArrowDown", 40)
        cursor = await page.js(cursor_probe)
        assert first["rows"] >= 2 and first["cursor"] is not None and first["selected"] == [first["cursor"]], first
        assert cursor["cursor"] not in (None, first["cursor"]) and cursor["selected"] == [cursor["cursor"]], (first, cursor)
        await page.key("Enter", "Enter", 13, text="\r")
        p = await page.until(f"(() => {{ const p = {PANEL}; return p.state && p.state.loaded && p.kind === 'order' ? p : null; }})()",
                             "the order panel from Enter", 10)
        assert p["id"] == str(cursor["cursor"]), p

        # Surge: only zones above 1× are drawn, each labelled with its multiplier.
        async def answer_surge(params):
            await page.call("Fetch.fulfillRequest", requestId=params["requestId"], responseCode=200,
                            responseHeaders=[{"name": "Content-Type", "value": "application/json"}],
                            body=base64.b64encode(json.dumps(SURGE).encode()).decode())
        page.handlers["Fetch.requestPaused"] = answer_surge
        await page.call("Fetch.enable", patterns=[{"urlPattern": "*/v1/surge*", "requestStage": "Response"}])
        await page.call("Page.navigate", url=base + "?surge")
        labels = await page.until("window.hexfleet && window.hexfleet.surgeLabels.length ? window.hexfleet.surgeLabels : null",
                                  "surge labels", 15)
        assert labels == [{"cell": "893969ab0d3ffff", "label": "×1.8"}, {"cell": "893969ab1bbffff", "label": "×1.25"}], labels
        assert await page.js("window.hexfleet.surgeZones") == 2

        # Where the engine plans routes and answers live ETAs (other issues add them), the console shows them: the
        # planned stops of GET /v1/drivers/{id}/route in the driver's panel, eta_pickup_ms / eta_dropoff_ms in the
        # list. Both answered here through interception, on the real orders' answers.
        now_ms = int(time.time() * 1000)
        plan = {"driver": d["id"], "stops": [
            {"order": oid, "type": "pickup", "lat": MONACO_PICKUP[0], "lng": MONACO_PICKUP[1], "eta_ms": now_ms + 240_000},
            {"order": oid, "type": "dropoff", "lat": MONACO_DROPOFF[0], "lng": MONACO_DROPOFF[1], "eta_ms": now_ms + 720_000}]}

        async def answer_planned(params):
            url, rid = params["request"]["url"], params["requestId"]
            if url.endswith(f"/v1/drivers/{d['id']}/route"):
                body = plan
            elif "/v1/orders?status=" in url and params.get("responseStatusCode") == 200:
                raw = await page.call("Fetch.getResponseBody", requestId=rid)
                body = json.loads(base64.b64decode(raw["body"]) if raw.get("base64Encoded") else raw["body"])
                for o in body["orders"]:
                    o["eta_pickup_ms"], o["eta_dropoff_ms"] = int(time.time() * 1000) + 300_000, 900_000
            else:
                await page.call("Fetch.continueRequest", requestId=rid)
                return
            await page.call("Fetch.fulfillRequest", requestId=rid, responseCode=200,
                            responseHeaders=[{"name": "Content-Type", "value": "application/json"}],
                            body=base64.b64encode(json.dumps(body).encode()).decode())
        page.handlers["Fetch.requestPaused"] = answer_planned
        await page.call("Fetch.enable", patterns=[{"urlPattern": "*/v1/drivers/*/route", "requestStage": "Response"},
                                                  {"urlPattern": "*/v1/orders*", "requestStage": "Response"}])
        await page.call("Page.navigate", url=base + "?planned")   # the token: still in this tab's sessionStorage
        eta = await page.until(f"(() => {{ const li = document.getElementById('order-{oid}'); "
                               "return li && li.querySelector('.eta').textContent.includes('pick-up') ? li.querySelector('.eta').textContent : null; })()",
                               "the live ETAs in the list", 15)
        assert eta == "pick-up in 5 min · drop-off in 15 min", eta
        await page.until(f"window.hexfleet.driversOnScreen().some((x) => x.id === {d['id']})", f"driver {d['id']} on the map", 15)
        await page.key("/", "Slash", 191, text="/")
        await page.call("Input.insertText", text=f"d{d['id']}")
        await page.key("Enter", "Enter", 13, text="\r")
        stops = await page.until("document.getElementById('driver-stops') && "
                                 "Array.from(document.querySelectorAll('#driver-stops li'), (li) => li.textContent)",
                                 "the planned stops in the driver's panel", 10)
        assert len(stops) == 2 and stops[0].startswith(f"pickup #{oid}") and stops[1].startswith(f"dropoff #{oid}"), stops
        assert (await page.js("window.hexfleet.panel"))["stops"] == 2
        page.reader.cancel()
