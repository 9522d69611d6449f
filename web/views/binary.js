// The binary protocol's view: lossless frames from a WebSocket drawn on a canvas with a
// window/level, a histogram and the raw value under the cursor.
import { decodeUC2F } from '../lib/uc2f-decoder.js';

const HISTOGRAM_BINS = 256;

/** Shows a binary stream; `onInfo(text)` and `onError(text)` report to the page. */
export class BinaryView {
  constructor(elements, onInfo, onError) {
    this.el = elements;
    this.onInfo = onInfo;
    this.onError = onError;
    this.socket = null;
    this.compression = 'none';
    this.last = null;
    this.pendingPacket = null;
    this.drawing = false;
    this.lut = null;
    this.lutKey = '';
    this.frameTimes = [];
    this.state = { frames: 0, lastFrame: null, valueAt: (x, y) => this.valueAt(x, y) };
    this.el.auto.addEventListener('change', () => this.redraw());
    for (const slider of [this.el.min, this.el.max]) {
      slider.addEventListener('input', () => {
        this.el.auto.checked = false;
        this.redraw();
      });
    }
    this.el.canvas.addEventListener('mousemove', (e) => this.showValueAt(e));
    this.el.canvas.addEventListener('mouseleave', () => (this.el.pixelValue.textContent = ''));
  }

  /** Connects to the stream's WebSocket (a path relative to the server). */
  start(url) {
    this.stop();
    const wsUrl = new URL(url.startsWith('/') ? `.${url}` : url, document.baseURI);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(wsUrl);
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('message', (event) => this.onMessage(socket, event));
    socket.addEventListener('close', (event) => {
      if (this.socket === socket && event.code !== 1000) {
        this.onError(
          `the binary stream closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`,
        );
      }
    });
    this.socket = socket;
  }

  /** Closes the socket. */
  stop() {
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'viewer stopped');
    this.pendingPacket = null;
  }

  onMessage(socket, event) {
    if (typeof event.data === 'string') {
      const message = JSON.parse(event.data);
      if (message.type === 'compression') this.compression = message.algorithm;
      if (message.type === 'error') this.onError(message.message);
      return;
    }
    // Only the newest frame is drawn; every frame is acknowledged so the server keeps sending.
    this.pendingPacket = event.data;
    if (!this.drawing) {
      this.drawing = true;
      requestAnimationFrame(() => this.drawPending(socket));
    }
  }

  drawPending(socket) {
    this.drawing = false;
    const packet = this.pendingPacket;
    this.pendingPacket = null;
    if (!packet || socket !== this.socket) return;
    let frame;
    try {
      frame = decodeUC2F(packet, this.compression);
    } catch (err) {
      this.onError(`cannot decode a frame: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.last = frame;
    socket.send(JSON.stringify({ type: 'ack', frameNumber: frame.frameNumber }));
    this.state.frames++;
    this.state.lastFrame = {
      frameNumber: frame.frameNumber,
      width: frame.width,
      height: frame.height,
      bitDepth: frame.bitDepth,
      dtype: frame.dtype,
      compression: frame.algorithm,
    };
    const now = performance.now();
    this.frameTimes.push(now);
    while (this.frameTimes.length > 0 && now - this.frameTimes[0] > 2000) this.frameTimes.shift();
    const fps =
      this.frameTimes.length > 1
        ? ((this.frameTimes.length - 1) * 1000) / (now - this.frameTimes[0])
        : 0;
    const latency = Date.now() - Number(frame.timestamp / 1000000n);
    this.onInfo(
      `frame ${frame.frameNumber} · ${frame.width}x${frame.height} ${frame.dtype} ${frame.bitDepth} bit · ` +
        `${fps.toFixed(1)} fps · latency ${latency} ms · ${frame.algorithm}`,
    );
    this.redraw();
  }

  /** Raw value(s) at image pixel (x, y) of the last frame. */
  valueAt(x, y) {
    const f = this.last;
    if (!f || x < 0 || y < 0 || x >= f.width || y >= f.height) return null;
    const i = (y * f.width + x) * f.channels;
    return f.channels === 1 ? f.pixels[i] : Array.from(f.pixels.subarray(i, i + f.channels));
  }

  showValueAt(event) {
    const f = this.last;
    if (!f) return;
    const rect = this.el.canvas.getBoundingClientRect();
    const x = Math.floor(((event.clientX - rect.left) / rect.width) * f.width);
    const y = Math.floor(((event.clientY - rect.top) / rect.height) * f.height);
    const value = this.valueAt(x, y);
    if (value === null) return;
    this.el.pixelValue.textContent = `${x}, ${y}: ${Array.isArray(value) ? value.join(' ') : value}`;
  }

  redraw() {
    const f = this.last;
    if (!f) return;
    const full = f.dtype === 'float32' ? 2 ** f.bitDepth : 2 ** f.bitDepth - 1;
    const { min: dataMin, max: dataMax, histogram } = scan(f.pixels, full);
    for (const slider of [this.el.min, this.el.max]) {
      slider.max = String(full);
      slider.step = f.dtype === 'float32' ? 'any' : '1';
    }
    if (this.el.auto.checked) {
      this.el.min.value = String(dataMin);
      this.el.max.value = String(dataMax);
    }
    const lo = Number(this.el.min.value);
    const hi = Math.max(Number(this.el.max.value), lo + (f.dtype === 'float32' ? 1e-6 : 1));
    this.el.minOut.textContent = formatValue(lo);
    this.el.maxOut.textContent = formatValue(hi);
    this.paint(f, lo, hi);
    drawHistogram(this.el.histogram, histogram, lo / full, hi / full);
  }

  paint(f, lo, hi) {
    const canvas = this.el.canvas;
    if (canvas.width !== f.width || canvas.height !== f.height) {
      canvas.width = f.width;
      canvas.height = f.height;
    }
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(f.width, f.height);
    const out = image.data;
    const px = f.pixels;
    const scale = 255 / (hi - lo);
    // Integer frames map through a table built once per window: one lookup per value.
    const useLut = f.dtype !== 'float32' && f.bitDepth <= 16;
    let lut = null;
    if (useLut) {
      const key = `${f.bitDepth}/${lo}/${hi}`;
      if (key !== this.lutKey) {
        this.lut = new Uint8ClampedArray(2 ** f.bitDepth);
        for (let v = 0; v < this.lut.length; v++) this.lut[v] = (v - lo) * scale;
        this.lutKey = key;
      }
      lut = this.lut;
    }
    const map = (v) => (lut ? lut[v] : (v - lo) * scale);
    if (f.channels === 1) {
      for (let i = 0, j = 0; i < px.length; i++, j += 4) {
        const g = map(px[i]);
        out[j] = g;
        out[j + 1] = g;
        out[j + 2] = g;
        out[j + 3] = 255;
      }
    } else {
      for (let i = 0, j = 0; i < px.length; i += 3, j += 4) {
        out[j] = map(px[i]);
        out[j + 1] = map(px[i + 1]);
        out[j + 2] = map(px[i + 2]);
        out[j + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
  }
}

/** Min, max and a histogram over [0, full] in one pass. */
function scan(pixels, full) {
  const histogram = new Uint32Array(HISTOGRAM_BINS);
  let min = Infinity;
  let max = -Infinity;
  const binScale = HISTOGRAM_BINS / (full + 1);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    if (v < min) min = v;
    if (v > max) max = v;
    const bin = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(v * binScale)));
    histogram[bin]++;
  }
  return { min, max, histogram };
}

function drawHistogram(canvas, histogram, lo, hi) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  let peak = 1;
  for (const n of histogram) peak = Math.max(peak, Math.log1p(n));
  ctx.fillStyle = '#4a90d9';
  const barWidth = width / histogram.length;
  histogram.forEach((n, i) => {
    const h = (Math.log1p(n) / peak) * height;
    ctx.fillRect(i * barWidth, height - h, Math.max(1, barWidth), h);
  });
  ctx.fillStyle = '#e0443e';
  ctx.fillRect(lo * width, 0, 2, height);
  ctx.fillRect(Math.min(width - 2, hi * width), 0, 2, height);
}

function formatValue(v) {
  return Number.isInteger(v) ? String(v) : v.toPrecision(5);
}
