"""The live map in headless Chromium, driven over the DevTools protocol with the `websockets` client: load `/` from
the --demo server (public tracking, no token), feed moving drivers over UDP, and check that the page draws them —
its exposed state (`window.hexfleet`, `data-drivers`) and the pixels of a screenshot."""
import asyncio
import base64
import itertools
import json
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
CENTER = (43.7350, 7.4200)
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


class Feeder(threading.Thread):
    """Twenty drivers circling the map centre, a fix each every 200 ms, until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()

    def run(self):
        for step in itertools.count():
            if self.stop.is_set():
                return
            t = now_ms()
            recs = [record(9000 + i, t, CENTER[0] + 0.004 * ((i % 5) - 2) + 0.0003 * (step % 20),
                           CENTER[1] + 0.005 * ((i // 5) - 2) + 0.0002 * (step % 20)) for i in range(20)]
            send_udp([datagram(recs, 99, gateway=True)], address=DEMO_UDP)
            time.sleep(0.2)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_live_map_draws_moving_drivers():
    feeder = Feeder()
    feeder.start()
    port = free_port()
    profile = tempfile.mkdtemp()
    url = f"http://{DEMO_HTTP}/#{CENTER[0]},{CENTER[1]},14"
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
        state, shot = asyncio.run(asyncio.wait_for(drive(target, url), 60))
    finally:
        feeder.stop.set()
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)

    assert state["connected"] is True
    assert state["driversDrawn"] >= 15, state
    assert state["dataDrivers"] == str(state["driversDrawn"])
    assert state["moved"], "driver positions changed between two reads"
    fit = state["fitView"]
    assert fit and fit["zoom"] > 8 and abs(fit["lat"] - CENTER[0]) < 0.5 and abs(fit["lng"] - CENTER[1]) < 0.5, fit
    width, height, bpp, rows = png_pixels(shot)
    green = sum(1 for row in rows for x in range(0, width * bpp, bpp)
                if abs(row[x] - AVAILABLE[0]) < 12 and abs(row[x + 1] - AVAILABLE[1]) < 12 and abs(row[x + 2] - AVAILABLE[2]) < 12)
    assert green >= 15 * 10, f"only {green} pixels in the 'available' colour"


async def drive(target, url):
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

        await call("Page.enable")
        await call("Page.navigate", url=url)
        probe = ("JSON.stringify(window.hexfleet ? Object.assign({dataDrivers: document.body.dataset.drivers}, "
                 "window.hexfleet, {first: (function(){ return null; })()}) : null)")
        state = None
        for _ in range(200):
            raw = await evaluate(probe)
            state = json.loads(raw) if raw else None
            if state and state["driversDrawn"] >= 15 and state["positionsReceived"] >= 40:
                break
            await asyncio.sleep(0.1)
        assert state, "the page did not expose window.hexfleet"
        first = state["lastUpdate"]
        for _ in range(50):
            await asyncio.sleep(0.1)
            later = json.loads(await evaluate(probe))
            if later["lastUpdate"] > first:
                break
        state = later
        state["moved"] = later["lastUpdate"] > first
        await asyncio.sleep(1.0)   # let the glide animation settle on the drawn positions
        shot = await call("Page.captureScreenshot", format="png")
        # Opened without a view in the URL, the page must fit the city's road network by itself.
        await call("Page.navigate", url=url.split("#")[0] + "?fit")
        fit = None
        for _ in range(200):
            raw = await evaluate("JSON.stringify(window.hexfleet || null)")
            fit = json.loads(raw) if raw else None
            if fit and fit["roadsDrawn"] > 0 and fit["view"] and fit["view"]["zoom"] > 8:
                break
            await asyncio.sleep(0.1)
        state["fitView"] = fit["view"] if fit else None
        return state, base64.b64decode(shot["data"])
