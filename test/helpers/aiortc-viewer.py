"""A WHEP viewer built on aiortc (Debian's python3-aiortc), for liveview's integration tests.

It POSTs a WHEP offer to the server, decodes the video it receives and reports, one JSON object
per line on stdout, what happened and when (milliseconds since the offer was POSTed):

    {"event": "answered", "status": 201, "ms": 12}
    {"event": "frame", "count": 1, "ms": 480, "width": 320, "height": 240}
    {"event": "dtls", "state": "closed", "ms": ...}
    {"event": "connection", "state": "connected", "ms": ...}
    {"event": "channel", "state": "closed", "ms": ...}     (with --data-channel)
    {"event": "track-ended", "ms": ...}
    {"event": "pli", "sent": false, "ms": ...}              (a PLI aiortc wanted to send, suppressed)
    {"event": "deaf", "dropped": 12, "ms": ...}             (with --deaf-ms, when the window ends)

It never asks for a keyframe: aiortc 1.4 sends a PLI only when its jitter buffer overflows, and
this script suppresses even that, so what it decodes first is what the server sent on its own.
ICE stays on 127.0.0.1. It stops when stdin closes or reads "close" (then closes its peer and
DELETEs the WHEP session), or after --seconds.

--deaf-ms N drops the RTP that arrives in the first N ms after DTLS connected, as a viewer whose
SRTP is not ready yet does: what the server sends first is lost, deterministically.

usage: python3 aiortc-viewer.py URL DETECTOR [--seconds S] [--data-channel] [--deaf-ms N]
"""

import argparse
import asyncio
import json
import sys
import time

import aioice.ice
import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpreceiver import RTCRtpReceiver

# Loopback only: aioice leaves 127.0.0.1 out of its host candidates, and any other interface
# would let media leave the machine.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

started = time.monotonic()


def report(event: str, **fields) -> None:
    fields = {"event": event, **fields, "ms": round((time.monotonic() - started) * 1000)}
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


async def no_pli(self, media_ssrc: int) -> None:
    report("pli", sent=False)


RTCRtpReceiver._send_rtcp_pli = no_pli

deaf = {"until": None, "dropped": 0}
handle_rtp_data = RTCDtlsTransport._handle_rtp_data


async def deaf_rtp(self, data: bytes, arrival_time_ms: int) -> None:
    if deaf["until"] is not None:
        if time.monotonic() < deaf["until"]:
            deaf["dropped"] += 1
            return
        report("deaf", dropped=deaf["dropped"])
        deaf["until"] = None
    await handle_rtp_data(self, data, arrival_time_ms)


RTCDtlsTransport._handle_rtp_data = deaf_rtp


async def stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line or line.strip() == b"close":
            return


async def consume(track) -> None:
    count = 0
    try:
        while True:
            frame = await track.recv()
            count += 1
            if count <= 3 or count % 30 == 0:
                report("frame", count=count, width=frame.width, height=frame.height)
    except MediaStreamError:
        report("track-ended", frames=count)


async def main() -> None:
    global started
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("detector")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--data-channel", action="store_true")
    parser.add_argument("--deaf-ms", type=float, default=0)
    args = parser.parse_args()

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    tasks = []

    @pc.on("track")
    def on_track(track) -> None:
        tasks.append(asyncio.ensure_future(consume(track)))

    @pc.on("connectionstatechange")
    def on_connection() -> None:
        report("connection", state=pc.connectionState)

    if args.data_channel:
        channel = pc.createDataChannel("metadata")

        @channel.on("close")
        def on_close() -> None:
            report("channel", state="closed")

    await pc.setLocalDescription(await pc.createOffer())
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport

        @dtls.on("statechange")
        def on_dtls(dtls=dtls) -> None:
            report("dtls", state=dtls.state)
            if dtls.state == "connected" and args.deaf_ms > 0:
                deaf["until"] = time.monotonic() + args.deaf_ms / 1000

    location = None
    async with aiohttp.ClientSession() as http:
        started = time.monotonic()
        async with http.post(
            f"{args.url}/liveview/whep/{args.detector}",
            data=pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp"},
        ) as res:
            body = await res.text()
            report("answered", status=res.status)
            if res.status != 201:
                report("error", message=body)
                return
            location = res.headers.get("Location")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        try:
            await asyncio.wait_for(stdin_closed(), timeout=args.seconds)
        except asyncio.TimeoutError:
            pass
        await pc.close()
        for task in tasks:
            task.cancel()
        if location:
            try:
                async with http.delete(f"{args.url}{location}"):
                    pass
            except aiohttp.ClientError:
                pass  # the server may be gone already
    report("closed")


asyncio.run(main())
