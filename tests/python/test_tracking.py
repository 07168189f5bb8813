"""/v1/ws/track and /v1/ws/driver with the `websockets` client against a real `hexfleet serve`."""
import asyncio
import json
import struct

import pytest
import websockets

from hexfleet_client import (ADMIN, HTTP, RawWebSocket, datagram, eventually, http, metric, now_ms, record,
                             send_udp, token)

TRACK = f"ws://{HTTP}/v1/ws/track"
DRIVER = f"ws://{HTTP}/v1/ws/driver"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


async def next_of_type(ws, type_):
    while True:
        m = json.loads(await ws.recv())
        if m.get("type") == type_:
            return m


def test_bbox_subscriber_gets_coalesced_updates_after_udp_pings():
    async def body():
        async with websockets.connect(f"{TRACK}?token={ADMIN}") as ws:
            await ws.send(json.dumps({"op": "subscribe", "bbox": [48.80, 2.25, 48.90, 2.40]}))
            assert (await next_of_type(ws, "subscribed"))["bbox"] == [48.8, 2.25, 48.9, 2.4]
            t = now_ms()
            # Three fixes of one driver in one datagram (one tick), and one driver outside the box.
            fixes = [record(1001, t + i, 48.85 + i * 1e-4, 2.35) for i in range(3)]
            send_udp([datagram(fixes, 1001), datagram([record(1002, t, 40.0, -3.7)], 1002)])
            m = await next_of_type(ws, "positions")
            assert [d["id"] for d in m["drivers"]] == [1001]
            d = m["drivers"][0]
            assert d["ts"] == t + 2 and abs(d["lat"] - 48.8502) < 1e-9 and d["lng"] == 2.35
            assert d["status"] == "available"
    run(body())
    assert metric('hexfleet_pings_accepted_total{transport="udp"}') >= 3


def test_many_drivers_one_message_per_tick():
    async def body():
        async with websockets.connect(f"{TRACK}?token={ADMIN}") as ws:
            await ws.send(json.dumps({"op": "subscribe", "bbox": [10, 10, 11, 11]}))
            await next_of_type(ws, "subscribed")
            t = now_ms()
            recs = [record(2000 + i, t, 10.5 + i * 1e-4, 10.5, "on_trip") for i in range(200)]
            send_udp([datagram(recs[:100], 7, gateway=True), datagram(recs[100:], 7, gateway=True)])
            seen = set()
            messages = 0
            while len(seen) < 200:
                m = await next_of_type(ws, "positions")
                messages += 1
                ids = [d["id"] for d in m["drivers"]]
                assert len(ids) == len(set(ids)), "a driver appears once per message"
                seen.update(ids)
            assert messages <= 2
    run(body())


def test_permission_refusals():
    async def body():
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(TRACK):
                pass
        assert refused.value.response.status_code == 401
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(f"{DRIVER}?token={token('customer', 'c9')}"):
                pass
        assert refused.value.response.status_code == 403
        async with websockets.connect(f"{TRACK}?token={token('driver', '31')}") as ws:
            await ws.send(json.dumps({"op": "subscribe", "driver": 32}))
            assert (await next_of_type(ws, "error"))["code"] == "forbidden"
            await ws.send(json.dumps({"op": "subscribe", "bbox": [0, 0, 1, 1]}))
            assert (await next_of_type(ws, "error"))["code"] == "forbidden"
            await ws.send(json.dumps({"op": "subscribe", "driver": 31}))
            assert (await next_of_type(ws, "subscribed"))["driver"] == 31
        async with websockets.connect(f"{TRACK}?token={token('customer', 'c9')}") as ws:
            await ws.send(json.dumps({"op": "subscribe", "order": 5}))
            assert (await next_of_type(ws, "error"))["code"] == "forbidden"
    run(body())


def test_oversized_message_closes_with_1009():
    async def body():
        async with websockets.connect(f"{TRACK}?token={ADMIN}", max_size=None) as ws:
            await ws.send(" " * (64 * 1024 + 1))
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                while True:
                    await ws.recv()
            assert closed.value.rcvd.code == 1009
    run(body())


def test_bad_utf8_closes_with_1007():
    ws = RawWebSocket(f"/v1/ws/track?token={ADMIN}")
    assert ws.status == 101
    ws.send_text(b'{"op":"subscribe","bbox":[0,0,1,1],"x":"\xc3\x28"}')
    assert ws.read_close_code() == 1007
    ws.close()


def test_binary_records_over_the_driver_channel():
    driver_token = token("driver", "4100")

    async def body():
        async with websockets.connect(f"{DRIVER}?token={driver_token}") as ws:
            t = now_ms()
            await ws.send(record(4100, t, 52.52, 13.405, "to_pickup", speed=1200, heading=18000, accuracy=40)
                          + record(4101, t, 52.52, 13.405))
            err = await next_of_type(ws, "error")
            assert err["code"] == "foreign_driver"
            await ws.send(json.dumps({"lat": 52.53, "lng": 13.41, "ts": t + 1, "status": "on_trip"}))
            await ws.send(json.dumps({"op": "fly"}))
            assert (await next_of_type(ws, "error"))["code"] == "unknown_op"
    run(body())
    assert eventually(lambda: http("GET", "/v1/drivers/4100", token=ADMIN)[1].get("status") == "on_trip")
    status, d = http("GET", "/v1/drivers/4100", token=ADMIN)
    assert status == 200 and abs(d["lat"] - 52.53) < 1e-9
    assert http("GET", "/v1/drivers/4101", token=ADMIN)[0] == 404
    assert metric('hexfleet_pings_accepted_total{transport="ws"}') >= 2
    assert metric('hexfleet_pings_dropped_total{reason="foreign_driver"}') >= 1


def test_binary_positions_format():
    async def body():
        async with websockets.connect(f"{TRACK}?format=binary&token={ADMIN}") as ws:
            await ws.send(json.dumps({"op": "subscribe", "driver": 5100}))
            await next_of_type(ws, "subscribed")
            t = now_ms()
            send_udp([datagram([record(5100, t, -23.55, -46.63, "break", speed=5, heading=100, accuracy=7)], 5100)])
            while True:
                frame = await ws.recv()
                if isinstance(frame, bytes):
                    break
            kind, version, _, count = struct.unpack_from("<BBHI", frame)
            assert (kind, version, count) == (1, 1, 1) and len(frame) == 8 + 32
            fields = struct.unpack_from("<QqiiHHHBB", frame, 8)
            assert fields == (5100, t, round(-23.55 * 1e7), round(-46.63 * 1e7), 5, 100, 7, 4, 0)
    run(body())


def test_slow_reader_is_evicted_and_others_keep_receiving():
    slow = RawWebSocket(f"/v1/ws/track?token={ADMIN}", receive_buffer=4096, timeout=30)
    assert slow.status == 101
    slow.send_text(json.dumps({"op": "subscribe", "bbox": [-5, -5, 5, 5]}))
    before = metric("hexfleet_ws_evictions_total") or 0

    async def body():
        async with websockets.connect(f"{TRACK}?token={ADMIN}") as fast:
            await fast.send(json.dumps({"op": "subscribe", "driver": 6001}))
            await next_of_type(fast, "subscribed")
            t = now_ms()
            rounds = 0
            while (metric("hexfleet_ws_evictions_total") or 0) <= before and rounds < 600:
                rounds += 1
                recs = [record(6001 + i, t + rounds, (i % 100) * 1e-3, (i // 100) * 1e-3 + rounds * 1e-6)
                        for i in range(3000)]
                send_udp([datagram(recs[k:k + 500], 9, gateway=True) for k in range(0, 3000, 500)])
                await asyncio.sleep(0.02)
            assert (metric("hexfleet_ws_evictions_total") or 0) > before
            # The fast reader still receives driver 6001's latest fix.
            while True:
                m = await next_of_type(fast, "positions")
                if m["drivers"][-1]["ts"] == t + rounds:
                    break

    asyncio.run(asyncio.wait_for(body(), 40))
    assert slow.read_close_code() == 1013
    slow.close()
