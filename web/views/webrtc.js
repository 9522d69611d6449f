// The WebRTC view: plays a stream through WHEP, shows getStats() figures, and keeps the
// metadata channel's messages.

/** The server's ICE servers for this viewer; none if it cannot tell (the WHEP POST then says what is wrong). */
async function iceServersFor(detectorName) {
  const url = `./liveview/webrtc/ice_servers?detectorName=${encodeURIComponent(detectorName)}`;
  const res = await fetch(url).catch(() => null);
  if (!res?.ok) return [];
  const body = await res.json().catch(() => ({}));
  return Array.isArray(body.iceServers) ? body.iceServers : [];
}

/** Plays a detector's WebRTC stream in a <video>; `onStats(text)` and `onError(text)` report to the page. */
export class WebrtcView {
  constructor(video, onStats, onError) {
    this.video = video;
    this.onStats = onStats;
    this.onError = onError;
    this.pc = null;
    this.session = null;
    this.statsTimer = undefined;
    this.previous = null;
    this.state = { framesDecoded: 0, stats: null, metadata: null };
  }

  /**
   * Connects through WHEP to /liveview/whep/{detector}, with the ICE servers (TURN credentials
   * minted for this viewer) from /liveview/webrtc/ice_servers: a browser gathers relay candidates
   * when it creates the offer, before the WHEP answer's `Link` headers could tell it about them.
   * The page's `?iceTransportPolicy=relay` makes it use TURN relays only (for testing TURN).
   */
  async start(detectorName) {
    await this.stop();
    const pc = new RTCPeerConnection({
      iceServers: await iceServersFor(detectorName),
      iceTransportPolicy:
        new URLSearchParams(window.location.search).get('iceTransportPolicy') === 'relay'
          ? 'relay'
          : 'all',
    });
    this.pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    const channel = pc.createDataChannel('metadata');
    channel.addEventListener('message', (e) => (this.state.metadata = JSON.parse(e.data)));
    pc.addEventListener('track', (event) => {
      // Live view: show each frame as soon as it is decoded.
      if ('jitterBufferTarget' in event.receiver) event.receiver.jitterBufferTarget = 0;
      this.video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc === this.pc && pc.connectionState === 'failed')
        this.onError('the WebRTC connection failed');
    });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      else
        pc.addEventListener(
          'icegatheringstatechange',
          () => pc.iceGatheringState === 'complete' && resolve(),
        );
    });
    const res = await fetch(`./liveview/whep/${encodeURIComponent(detectorName)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    if (res.status !== 201) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.message ?? `WHEP answered ${res.status}`);
    }
    const location = res.headers.get('Location');
    this.session = location
      ? new URL(location.startsWith('/') ? `.${location}` : location, document.baseURI).href
      : null;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    this.statsTimer = setInterval(() => void this.readStats(), 1000);
  }

  /** Ends the WHEP session and the peer. */
  async stop() {
    clearInterval(this.statsTimer);
    const pc = this.pc;
    const session = this.session;
    this.pc = null;
    this.session = null;
    this.previous = null;
    this.video.srcObject = null;
    pc?.close();
    if (session) await fetch(session, { method: 'DELETE' }).catch(() => undefined);
  }

  async readStats() {
    const pc = this.pc;
    if (!pc) return;
    const report = await pc.getStats();
    let inbound;
    let pair;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') inbound = s;
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    });
    if (!inbound) return;
    const prev = this.previous;
    this.previous = inbound;
    const seconds = prev ? (inbound.timestamp - prev.timestamp) / 1000 : 0;
    const bitrate =
      prev && seconds > 0 ? ((inbound.bytesReceived - prev.bytesReceived) * 8) / seconds : 0;
    const decoded = prev ? inbound.framesDecoded - prev.framesDecoded : 0;
    const decodeMs =
      prev && decoded > 0 ? ((inbound.totalDecodeTime - prev.totalDecodeTime) * 1000) / decoded : 0;
    const stats = {
      fps: inbound.framesPerSecond ?? 0,
      bitrateKbps: Math.round(bitrate / 1000),
      decodeMs: Math.round(decodeMs * 10) / 10,
      roundTripMs:
        pair?.currentRoundTripTime !== undefined
          ? Math.round(pair.currentRoundTripTime * 1000)
          : null,
      framesDecoded: inbound.framesDecoded ?? 0,
      codec: report.get(inbound.codecId)?.mimeType?.replace('video/', '') ?? '',
    };
    this.state.framesDecoded = stats.framesDecoded;
    this.state.stats = stats;
    this.onStats(
      `${stats.codec} · ${stats.fps} fps · ${stats.bitrateKbps} kbit/s · decode ${stats.decodeMs} ms · ` +
        `round trip ${stats.roundTripMs ?? '–'} ms`,
    );
  }
}
