// Live view page: pick a detector and a protocol (MJPEG, WebRTC, lossless binary), start/stop
// its stream, read the pixel code of the shown frame, edit the detector's parameters. Every URL
// is relative so the page also works when a reverse proxy serves it under a path prefix.
import { decodePixelCode } from './lib/pixel-code.js';
import { BinaryView } from './views/binary.js';
import { MjpegView } from './views/mjpeg.js';
import { WebrtcView } from './views/webrtc.js';
import { RecordingsPanel } from './views/recordings.js';

const STATUS_POLL_MS = 1000;
const DECODE_INTERVAL_MS = 250;

const select = /** @type {HTMLSelectElement} */ (document.getElementById('detector-select'));
const protocolSelect = /** @type {HTMLSelectElement} */ (
  document.getElementById('protocol-select')
);
const webrtcVideo = /** @type {HTMLVideoElement} */ (document.getElementById('webrtc-video'));
const binaryCanvas = /** @type {HTMLCanvasElement} */ (document.getElementById('binary-canvas'));
const webrtcTools = /** @type {HTMLElement} */ (document.getElementById('webrtc-tools'));
const binaryTools = /** @type {HTMLElement} */ (document.getElementById('binary-tools'));
const startButton = /** @type {HTMLButtonElement} */ (document.getElementById('start'));
const stopButton = /** @type {HTMLButtonElement} */ (document.getElementById('stop'));
const video = /** @type {HTMLImageElement} */ (document.getElementById('video'));
const statusLine = /** @type {HTMLElement} */ (document.getElementById('status'));
const frameInfo = /** @type {HTMLElement} */ (document.getElementById('frame-info'));
const errorBox = /** @type {HTMLElement} */ (document.getElementById('error'));
const userBox = /** @type {HTMLElement} */ (document.getElementById('user'));
const userName = /** @type {HTMLElement} */ (document.getElementById('user-name'));
const logoutButton = /** @type {HTMLButtonElement} */ (document.getElementById('logout'));
const form = /** @type {HTMLFormElement} */ (document.getElementById('parameters'));
const fields = /** @type {HTMLElement} */ (form.querySelector('.fields'));

const mjpegView = new MjpegView(video, (text) => showError(text));
const webrtcView = new WebrtcView(
  webrtcVideo,
  (text) => (document.getElementById('webrtc-stats').textContent = text),
  (text) => showError(text),
);
const binaryView = new BinaryView(
  {
    canvas: binaryCanvas,
    min: document.getElementById('window-min'),
    max: document.getElementById('window-max'),
    minOut: document.getElementById('window-min-value'),
    maxOut: document.getElementById('window-max-value'),
    auto: document.getElementById('window-auto'),
    histogram: document.getElementById('histogram'),
    pixelValue: document.getElementById('pixel-value'),
  },
  (text) => (frameInfo.textContent = text),
  (text) => showError(text),
);

const recordingsPanel = new RecordingsPanel(
  {
    format: /** @type {HTMLSelectElement} */ (document.getElementById('recording-format')),
    record: /** @type {HTMLButtonElement} */ (document.getElementById('record')),
    list: /** @type {HTMLTableSectionElement} */ (document.getElementById('recordings-list')),
  },
  api,
  () => select.value,
  (text) => showError(text),
);

/** Read by the end-to-end tests: the newest decoded pixel code, and the views' state. */
const liveview = {
  lastFrame: null,
  mjpeg: mjpegView.state,
  binary: binaryView.state,
  webrtc: webrtcView.state,
  recordings: recordingsPanel.state,
};
window.liveview = liveview;

/** Protocol of the stream this page shows (fixed while streaming). */
let streamingProtocol = 'mjpeg';

/** Detectors by name, as last answered by GET /liveview/detectors. */
const detectors = new Map();
/** Detector whose stream this page shows, or null. */
let streamingDetector = null;
let decodeTimer;
let busy = false;
let statusInFlight = false;
const canvas = document.createElement('canvas');
// The canvas is read back every tick; this keeps it in CPU memory.
const context = canvas.getContext('2d', { willReadFrequently: true });

/** Calls the REST API; rejects with the server's message on an error answer. */
async function api(path, body, method = body === undefined ? 'GET' : 'POST') {
  const init =
    body === undefined
      ? { method }
      : {
          method,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        };
  let response;
  try {
    response = await fetch(`./liveview/${path}`, init);
  } catch (err) {
    throw new Error(`cannot reach the server: ${messageOf(err)}`, { cause: err });
  }
  let json;
  try {
    json = await response.json();
  } catch (err) {
    throw new Error(`${response.status} ${response.statusText}: the answer is not JSON`, {
      cause: err,
    });
  }
  if (response.status === 401) {
    // The session expired (or the server restarted): log in again and come back.
    location.assign(`/login.html?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (!response.ok || json?.status === 'error') {
    throw new Error(json?.message ?? `${response.status} ${response.statusText}`);
  }
  return json;
}

/** Who is logged in (GET /auth/whoami); `mayOperate` is false for the viewer role. */
const session = { authEnabled: false, subject: '', role: 'admin', mayOperate: true };

/** Shows who is logged in and a log-out button, and what this role may not do. */
async function loadSession() {
  const response = await fetch('/auth/whoami');
  const answer = await response.json();
  session.authEnabled = answer.authEnabled;
  session.subject = answer.subject ?? '';
  session.role = answer.role ?? 'viewer';
  session.mayOperate = session.role !== 'viewer';
  if (!session.authEnabled) return;
  userBox.hidden = false;
  userName.textContent = `${session.subject} (${session.role})`;
  logoutButton.addEventListener('click', async () => {
    await fetch('/auth/logout', { method: 'POST' });
    location.assign('/login.html');
  });
}

/** URL of a stream for a viewer, who watches without starting it (streams start on demand). */
function viewerUrl(protocol, detectorName) {
  const name = encodeURIComponent(detectorName);
  return protocol === 'binary'
    ? `/liveview/binary?detectorName=${name}`
    : `/liveview/mjpeg?detectorName=${name}`;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function clearError() {
  errorBox.textContent = '';
  errorBox.hidden = true;
}

function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

function updateButtons() {
  startButton.disabled = busy || streamingDetector !== null || select.options.length === 0;
  stopButton.disabled = busy || select.options.length === 0;
  // The stream, its status and the form all follow the selection, so it is fixed while streaming.
  select.disabled = busy || streamingDetector !== null;
  protocolSelect.disabled = busy || streamingDetector !== null;
}

/** Runs a button action with the buttons locked, showing its failure in the error area. */
async function act(what, action) {
  busy = true;
  updateButtons();
  clearError();
  try {
    await action();
  } catch (err) {
    showError(`${what}: ${messageOf(err)}`);
  } finally {
    busy = false;
    updateButtons();
  }
}

async function start() {
  const detectorName = select.value;
  const protocol = protocolSelect.value;
  // Viewers may watch but not start: their clients start the stream on demand.
  const answer = session.mayOperate
    ? await api('startLiveView', { detectorName, protocol })
    : { url: viewerUrl(protocol, detectorName) };
  streamingDetector = detectorName;
  streamingProtocol = protocol;
  showScreen(protocol);
  frameInfo.textContent = 'waiting for the first frame';
  if (protocol === 'mjpeg') mjpegView.start(answer.url);
  else if (protocol === 'binary') binaryView.start(answer.url);
  else await webrtcView.start(detectorName);
  clearInterval(decodeTimer);
  // The binary view reads frame numbers from its packets; the pictures carry the pixel code.
  if (protocol !== 'binary') decodeTimer = setInterval(decodeShownFrame, DECODE_INTERVAL_MS);
}

async function stop() {
  const detectorName = streamingDetector ?? select.value;
  const protocol = streamingDetector !== null ? streamingProtocol : protocolSelect.value;
  await stopViewing();
  if (session.mayOperate) await api('stopLiveView', { detectorName, protocol });
}

/** Shows the element of a protocol (img, video or canvas) and its tools. */
function showScreen(protocol) {
  video.hidden = protocol !== 'mjpeg';
  webrtcVideo.hidden = protocol !== 'webrtc';
  webrtcTools.hidden = protocol !== 'webrtc';
  binaryCanvas.hidden = protocol !== 'binary';
  binaryTools.hidden = protocol !== 'binary';
}

/** Closes the page's connection to the stream (without this the browser keeps it open). */
async function stopViewing() {
  streamingDetector = null;
  clearInterval(decodeTimer);
  mjpegView.stop();
  binaryView.stop();
  await webrtcView.stop();
  liveview.lastFrame = null;
  frameInfo.textContent = '';
}

/** Reads frame number and capture time from the top-left pixels of the frame now shown. */
function decodeShownFrame() {
  const source = streamingProtocol === 'webrtc' ? webrtcVideo : video;
  const width = source instanceof HTMLVideoElement ? source.videoWidth : source.naturalWidth;
  const height = source instanceof HTMLVideoElement ? source.videoHeight : source.naturalHeight;
  if (streamingDetector === null || width === 0 || height === 0 || !context) return;
  // Only the top rows carry the code, which keeps getImageData cheap on big frames.
  const rows = Math.min(height, Math.ceil((3 * width) / 40) + 2);
  canvas.width = width;
  canvas.height = rows;
  let code;
  try {
    context.drawImage(source, 0, 0);
    code = decodePixelCode(context.getImageData(0, 0, width, rows).data, width, rows, 4);
  } catch (err) {
    // E.g. a stream from another origin taints the canvas; the picture still plays.
    liveview.lastFrame = null;
    frameInfo.textContent = `no pixel code (${messageOf(err)})`;
    return;
  }
  if (!code) {
    liveview.lastFrame = null;
    frameInfo.textContent = 'no pixel code';
    return;
  }
  const latencyMs = Date.now() - code.timestampMs;
  liveview.lastFrame = { frameNumber: code.frameNumber, timestampMs: code.timestampMs, latencyMs };
  frameInfo.textContent = `frame ${code.frameNumber} · latency ${latencyMs} ms`;
}

function describeStream(stream, relays = []) {
  // Relays (Janus, WHIP) feed a detector's WebRTC stream; shown also while they cannot.
  const fed = relays.map(describeRelay);
  if (!stream) return ['stopped', ...fed].join(' · ');
  const clients = `${stream.clientCount} client${stream.clientCount === 1 ? '' : 's'}`;
  const state = stream.state === 'error' ? `error: ${stream.error ?? 'unknown'}` : stream.state;
  return [
    `${state} · ${clients} · ${stream.fps} fps · ${stream.framesDropped} dropped`,
    ...fed,
  ].join(' · ');
}

/** One relay of `GET /liveview/relays` for the status line. */
function describeRelay(relay) {
  const viewers =
    relay.viewers === undefined ? '' : `, ${relay.viewers} viewer${relay.viewers === 1 ? '' : 's'}`;
  const error = relay.state !== 'live' && relay.lastError ? `: ${relay.lastError}` : '';
  return `relay ${relay.name} (${relay.type}) ${relay.state}${viewers}${error}`;
}

async function pollStatus() {
  // A slow server must not pile up requests.
  if (statusInFlight) return;
  statusInFlight = true;
  try {
    const { streams } = await api('getActiveStreams');
    const protocol = streamingDetector !== null ? streamingProtocol : protocolSelect.value;
    const stream = streams.find((s) => s.detectorName === select.value && s.protocol === protocol);
    const relays =
      protocol === 'webrtc'
        ? ((await api('relays')).relays ?? []).filter((r) => r.detector === select.value)
        : [];
    statusLine.textContent = describeStream(stream, relays);
  } catch (err) {
    statusLine.textContent = `status unavailable: ${messageOf(err)}`;
  } finally {
    statusInFlight = false;
  }
}

function createInput(spec) {
  if (spec.type === 'boolean') {
    const input = document.createElement('input');
    input.type = 'checkbox';
    return input;
  }
  if (spec.type === 'enum') {
    const input = document.createElement('select');
    for (const value of spec.values ?? []) input.add(new Option(value, value));
    return input;
  }
  const input = document.createElement('input');
  if (spec.type === 'integer' || spec.type === 'number') {
    input.type = 'number';
    input.step = spec.type === 'integer' ? '1' : 'any';
    if (spec.min !== undefined) input.min = String(spec.min);
    if (spec.max !== undefined) input.max = String(spec.max);
  } else {
    input.type = 'text';
  }
  return input;
}

function writeValue(spec, input, value) {
  if (spec.type === 'boolean') input.checked = value === true;
  else input.value = value === undefined || value === null ? '' : String(value);
}

function readValue(spec, input) {
  if (spec.type === 'boolean') return input.checked;
  if (spec.type === 'integer' || spec.type === 'number') {
    // Sent as typed: the server's message explains what is wrong with it.
    return input.value.trim() === '' ? null : Number(input.value);
  }
  return input.value;
}

function renderParameters() {
  const detector = detectors.get(select.value);
  fields.replaceChildren();
  if (!detector) return;
  for (const spec of detector.parameterSpecs ?? []) {
    const id = `param-${spec.name}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = spec.unit ? `${spec.name} (${spec.unit})` : spec.name;
    label.title = spec.description ?? '';
    const input = createInput(spec);
    input.id = id;
    input.name = spec.name;
    input.title = spec.description ?? '';
    input.disabled = spec.readOnly === true;
    writeValue(spec, input, detector.parameters?.[spec.name]);
    fields.append(label, input);
  }
}

async function applyParameters() {
  const detector = detectors.get(select.value);
  if (!detector) return;
  const changed = {};
  for (const spec of detector.parameterSpecs ?? []) {
    if (spec.readOnly) continue;
    const input = form.elements.namedItem(spec.name);
    if (!input) continue;
    const value = readValue(spec, input);
    if (value !== detector.parameters?.[spec.name]) changed[spec.name] = value;
  }
  if (Object.keys(changed).length === 0) return;
  const answer = await api(`detectors/${encodeURIComponent(detector.name)}/parameters`, changed);
  detector.parameters = answer.parameters;
  renderParameters();
}

async function loadDetectors() {
  const answer = await api('detectors');
  detectors.clear();
  select.replaceChildren();
  for (const detector of answer.detectors) {
    detectors.set(detector.name, detector);
    const label = detector.state === 'error' ? `${detector.name} (error)` : detector.name;
    select.add(new Option(label, detector.name));
  }
  if (detectors.has(answer.defaultDetector)) select.value = answer.defaultDetector;
  renderParameters();
}

protocolSelect.addEventListener('change', () => {
  showScreen(protocolSelect.value);
  void pollStatus();
});
select.addEventListener('change', () => {
  clearError();
  renderParameters();
  void pollStatus();
});
startButton.addEventListener('click', () => void act('could not start the stream', start));
stopButton.addEventListener('click', () => void act('could not stop the stream', stop));
form.addEventListener('submit', (event) => {
  event.preventDefault();
  void act('could not apply the parameters', applyParameters);
});

busy = true;
updateButtons();
try {
  await loadSession();
  await loadDetectors();
  if (!session.mayOperate) {
    const apply = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
    apply.disabled = true;
    apply.title = 'changing parameters needs the operator role';
  }
} catch (err) {
  showError(`could not load the detectors: ${messageOf(err)}`);
} finally {
  busy = false;
  updateButtons();
}
void pollStatus();
setInterval(pollStatus, STATUS_POLL_MS);
recordingsPanel
  .start(session.mayOperate)
  .catch((err) => showError(`could not load the recordings: ${messageOf(err)}`));
