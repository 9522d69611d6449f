// The design note's WebRTC page: server URL, detector name, start button, video. Signaling is
// the note's POST /liveview/webrtc_offer with a complete (non-trickle) offer.
const serverInput = /** @type {HTMLInputElement} */ (document.getElementById('server-url'));
const detectorInput = /** @type {HTMLInputElement} */ (document.getElementById('detector-name'));
const startButton = /** @type {HTMLButtonElement} */ (document.getElementById('start'));
const stopButton = /** @type {HTMLButtonElement} */ (document.getElementById('stop'));
const video = /** @type {HTMLVideoElement} */ (document.getElementById('video'));
const statusLine = /** @type {HTMLElement} */ (document.getElementById('status'));
const errorLine = /** @type {HTMLElement} */ (document.getElementById('error'));

const query = new URLSearchParams(location.search);
serverInput.value = query.get('server') ?? location.origin;
detectorInput.value = query.get('detector') ?? '';
/** `?iceTransportPolicy=relay` makes the browser use TURN relays only (for testing a TURN server). */
const iceTransportPolicy = query.get('iceTransportPolicy') === 'relay' ? 'relay' : 'all';

/** The running connection, for Stop and for tests. */
let pc = null;

/**
 * ICE servers the server is configured with, TURN credentials minted for this viewer (the note
 * used a public STUN server); none if it cannot tell (the offer then reports what is wrong).
 */
async function iceServers(server, detectorName) {
  const query = detectorName ? `?detectorName=${encodeURIComponent(detectorName)}` : '';
  const res = await fetch(`${server}/liveview/webrtc/ice_servers${query}`).catch(() => null);
  if (!res?.ok) return [];
  const body = await res.json().catch(() => ({}));
  return Array.isArray(body.iceServers) ? body.iceServers : [];
}

async function start() {
  const server = serverInput.value.replace(/\/$/, '');
  const detectorName = detectorInput.value.trim() || undefined;
  pc = new RTCPeerConnection({
    iceServers: await iceServers(server, detectorName),
    iceTransportPolicy,
  });
  window.liveviewPeer = pc;
  pc.addEventListener('track', (evt) => {
    if (evt.track.kind === 'video')
      video.srcObject = evt.streams[0] ?? new MediaStream([evt.track]);
  });
  pc.addEventListener(
    'connectionstatechange',
    () => (statusLine.textContent = pc?.connectionState ?? 'idle'),
  );
  pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    else
      pc.addEventListener(
        'icegatheringstatechange',
        () => pc.iceGatheringState === 'complete' && resolve(),
      );
  });
  const response = await fetch(`${server}/liveview/webrtc_offer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      detectorName,
      sdp: pc.localDescription.sdp,
      type: pc.localDescription.type,
    }),
  });
  const answer = await response.json();
  if (answer.status !== 'success') throw new Error(answer.message ?? `HTTP ${response.status}`);
  await pc.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
}

function stop() {
  pc?.close();
  pc = null;
  video.srcObject = null;
  statusLine.textContent = 'idle';
}

document.getElementById('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  errorLine.textContent = '';
  startButton.disabled = true;
  try {
    await start();
    stopButton.disabled = false;
  } catch (err) {
    stop();
    startButton.disabled = false;
    errorLine.textContent = `Could not start: ${err instanceof Error ? err.message : String(err)}`;
  }
});

stopButton.addEventListener('click', () => {
  stop();
  stopButton.disabled = true;
  startButton.disabled = false;
});
