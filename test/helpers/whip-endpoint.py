"""A WHIP endpoint (RFC 9725) built on aiortc (Debian's python3-aiortc) and aiohttp, for
liveview's relay tests: an independent WebRTC stack receives what liveview publishes.

POST /whip with an SDP offer and `Authorization: Bearer TOKEN` answers 201 with the SDP answer and
a Location; DELETE of that Location ends the session; a wrong or missing token gets 401. It
reports on stdout, one JSON object per line:

    {"event": "listening", "port": 8123}
    {"event": "published", "id": "...", "authorization": "Bearer ..."}
    {"event": "unauthorized", "method": "POST", "authorization": null}
    {"event": "frame", "id": "...", "count": 12, "width": 320, "height": 240, "y": "<base64>"}
    {"event": "deleted", "id": "..."}

`y` is the decoded picture's luma plane (width x height bytes), for the test to read the pixel
code; sent for the first 30 frames of a session and every 10th after. ICE stays on 127.0.0.1.
A line "pli" on stdin sends a PLI (RTCP picture loss) for every received stream and reports
{"event": "pli-sent", "count": N}. It stops when stdin closes.

usage: python3 whip-endpoint.py PORT TOKEN
"""

import asyncio
import base64
import json
import sys
import uuid

import aioice.ice
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def report(event: str, **fields) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


sessions = {}


def authorized(request, token) -> bool:
    got = request.headers.get("Authorization")
    if got == f"Bearer {token}":
        return True
    report("unauthorized", method=request.method, authorization=got)
    return False


def luma(frame) -> bytes:
    plane = frame.planes[0]
    data = bytes(plane)
    stride = plane.line_size
    return b"".join(data[r * stride : r * stride + frame.width] for r in range(frame.height))


async def consume(session_id, track) -> None:
    count = 0
    try:
        while True:
            frame = await track.recv()
            count += 1
            fields = {"id": session_id, "count": count, "width": frame.width, "height": frame.height}
            if count <= 30 or count % 10 == 0:
                fields["y"] = base64.b64encode(luma(frame)).decode("ascii")
            report("frame", **fields)
    except MediaStreamError:
        report("track-ended", id=session_id, frames=count)


def app_for(token: str) -> web.Application:
    async def publish(request):
        if not authorized(request, token):
            return web.Response(status=401, text="bad token")
        if request.content_type != "application/sdp":
            return web.Response(status=415)
        offer = await request.text()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        session_id = uuid.uuid4().hex
        tasks = []

        @pc.on("track")
        def on_track(track) -> None:
            tasks.append(asyncio.ensure_future(consume(session_id, track)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        sessions[session_id] = (pc, tasks)
        report("published", id=session_id, authorization=request.headers.get("Authorization"))
        return web.Response(
            status=201,
            text=pc.localDescription.sdp,
            content_type="application/sdp",
            headers={"Location": f"/whip/session/{session_id}"},
        )

    async def delete(request):
        if not authorized(request, token):
            return web.Response(status=401)
        session_id = request.match_info["id"]
        entry = sessions.pop(session_id, None)
        if entry is None:
            return web.Response(status=404)
        pc, tasks = entry
        await pc.close()
        for task in tasks:
            task.cancel()
        report("deleted", id=session_id)
        return web.Response(status=200)

    async def options(request):
        return web.Response(status=204, headers={"Accept-Post": "application/sdp"})

    app = web.Application()
    app.router.add_post("/whip", publish)
    app.router.add_route("OPTIONS", "/whip", options)
    app.router.add_delete("/whip/session/{id}", delete)
    return app


async def send_pli() -> None:
    count = 0
    for pc, _ in list(sessions.values()):
        for transceiver in pc.getTransceivers():
            receiver = transceiver.receiver
            for ssrc in list(receiver._RTCRtpReceiver__remote_streams.keys()):
                await receiver._send_rtcp_pli(ssrc)
                count += 1
    report("pli-sent", count=count)


async def stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        if line.strip() == b"pli":
            await send_pli()


async def main() -> None:
    port, token = int(sys.argv[1]), sys.argv[2]
    runner = web.AppRunner(app_for(token))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    report("listening", port=port)
    await stdin_closed()
    for pc, tasks in list(sessions.values()):
        await pc.close()
    await runner.cleanup()


asyncio.run(main())
