import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { BinaryClient } from '../test/helpers/binary-client.js';
import { MultipartReader } from '../test/helpers/multipart-reader.js';
import { TestViewer } from '../test/helpers/webrtc-viewer.js';
import { withTimeout } from './harness.js';

/** Something the soak opened and must close at the end (or when the server crashes). */
export interface Closable {
  close(): void | Promise<void>;
}

/** Every long-lived client the soak holds, so that a crash or the end closes them all. */
export const openClients = new Set<Closable>();

/** How a batch of clients went: successes, failures and the failures' messages. */
export interface Tally {
  ok: number;
  failed: number;
  errors: Map<string, number>;
}

export { sleep, withTimeout } from './harness.js';

/** Runs `task(0..count-1)` with at most `concurrency` running at once; never throws. */
export async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<Tally> {
  const tally: Tally = { ok: 0, failed: 0, errors: new Map() };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        await task(i);
        tally.ok++;
      } catch (err) {
        tally.failed++;
        const key = (err instanceof Error ? err.message : String(err))
          .replace(/\d+/g, 'N')
          .slice(0, 120);
        tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(concurrency, count)) }, lane));
  return tally;
}

/** Adds `b` into `a`. */
export function addTally(a: Tally, b: Tally): Tally {
  a.ok += b.ok;
  a.failed += b.failed;
  for (const [k, v] of b.errors) a.errors.set(k, (a.errors.get(k) ?? 0) + v);
  return a;
}

const CLIENT_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// MJPEG

/** Opens the MJPEG stream, reads `parts` parts (checking their framing), closes. */
export async function mjpegChurnClient(url: string, parts: number): Promise<void> {
  const reader = new MultipartReader();
  try {
    await withTimeout(reader.connect(url), CLIENT_TIMEOUT_MS, 'MJPEG response headers');
    if (reader.status !== 200) throw new Error(`MJPEG answered ${reader.status}`);
    await reader.waitForParts(parts, CLIENT_TIMEOUT_MS);
  } finally {
    reader.close();
  }
}

/** Sends the whole request and hangs up before the response headers can arrive. */
export function mjpegAbortAfterRequest(url: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false });
    req.on('error', () => resolve()); // the abort itself
    req.on('response', (res) => {
      // Too late to abort before the headers: hang up now.
      res.destroy();
      resolve();
    });
    req.on('finish', () =>
      setImmediate(() => {
        req.destroy();
        resolve();
      }),
    );
  });
}

/** Connects and sends half a request head (no blank line), then hangs up. */
export function mjpegAbortInHead(url: string): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname, () => {
      socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n`);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 20);
    });
    socket.on('error', reject);
  });
}

/** An MJPEG client that reads the headers and then never reads again (a paused socket). */
export async function pausedMjpegClient(url: string): Promise<Closable> {
  const reader = new MultipartReader();
  openClients.add(reader);
  await withTimeout(reader.connect(url, { paused: true }), CLIENT_TIMEOUT_MS, 'MJPEG headers');
  return reader;
}

// ---------------------------------------------------------------------------------------------
// Binary (UC2F over WebSocket)

/** The frame number in a UC2F packet's trailer (8 bytes after `UC2X`, 12 bytes before the end). */
function trailerFrameNumber(packet: Buffer): number {
  return Number(packet.readBigUInt64LE(packet.length - 12));
}

export type BinaryChurnKind = 'ack' | 'noack' | 'abrupt-after-hello' | 'abrupt-after-frame';

/** The churn mix: 3 in 5 acknowledge, 1 in 5 never does, 1 in 5 hangs up without a close frame. */
export function binaryChurnKind(i: number): BinaryChurnKind {
  const r = i % 10;
  if (r < 6) return 'ack';
  if (r < 8) return 'noack';
  return r === 8 ? 'abrupt-after-hello' : 'abrupt-after-frame';
}

/**
 * Connects, waits for the hello and (unless abrupt after hello) a frame, acknowledges it if
 * asked, then closes cleanly (close handshake) or abruptly (TCP reset, no close frame).
 */
export async function binaryChurnClient(wsUrl: string, kind: BinaryChurnKind): Promise<void> {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  ws.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        let hello = false;
        ws.on('message', (data: Buffer, isBinary) => {
          if (!isBinary) {
            const message = JSON.parse(data.toString()) as { type?: string };
            if (message.type === 'hello') {
              hello = true;
              if (kind === 'abrupt-after-hello') resolve();
            }
            return;
          }
          if (!hello) reject(new Error('a frame before the hello'));
          if (kind === 'ack')
            ws.send(JSON.stringify({ type: 'ack', frameNumber: trailerFrameNumber(data) }));
          resolve();
        });
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`upgrade refused with ${res.statusCode}`)),
        );
        ws.once('error', reject);
        ws.once('close', (code) => reject(new Error(`closed by the server (${code})`)));
      }),
      CLIENT_TIMEOUT_MS,
      `binary ${kind}`,
    );
  } finally {
    if (kind.startsWith('abrupt') || ws.readyState !== WebSocket.OPEN) ws.terminate();
    else ws.close(1000, 'done');
  }
  await withTimeout(closed, CLIENT_TIMEOUT_MS, 'binary close handshake');
}

/** A binary client that never acknowledges: gets `max_in_flight` frames, then should get nothing. */
export async function neverAckBinaryClient(wsUrl: string): Promise<Closable> {
  const client = new BinaryClient();
  client.ackDelayMs = null;
  const closable = { close: () => client.close() };
  openClients.add(closable);
  await withTimeout(client.connect(wsUrl), CLIENT_TIMEOUT_MS, 'binary connect');
  return closable;
}

/**
 * A binary client that stops reading its socket but keeps acknowledging (`{"type":"ack"}`
 * every `intervalMs`), as a client whose network stalls while its logic goes on.
 */
export async function pausedAckingBinaryClient(wsUrl: string, intervalMs = 20): Promise<Closable> {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  ws.on('error', () => undefined);
  const state: { timer?: NodeJS.Timeout } = {};
  const closable = {
    close: () => {
      clearInterval(state.timer);
      ws.terminate();
    },
  };
  openClients.add(closable);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve()); // the hello
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`closed by the server (${code})`)));
    }),
    CLIENT_TIMEOUT_MS,
    'binary hello',
  );
  ws.pause();
  const ack = JSON.stringify({ type: 'ack' });
  state.timer = setInterval(() => {
    if (ws.readyState === WebSocket.OPEN) ws.send(ack);
  }, intervalMs);
  return closable;
}

// ---------------------------------------------------------------------------------------------
// WebRTC

/** A real werift offer (loopback candidates only) whose peer is closed without ever connecting. */
export async function unfinishedOffer(url: string, detector: string, whep: boolean): Promise<void> {
  const viewer = new TestViewer({ codecs: ['VP8'] });
  try {
    const sdp = await withTimeout(viewer.offer(), CLIENT_TIMEOUT_MS, 'werift offer');
    if (whep) {
      const res = await withTimeout(
        fetch(`${url}/liveview/whep/${encodeURIComponent(detector)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/sdp' },
          body: sdp,
        }),
        CLIENT_TIMEOUT_MS,
        'WHEP POST',
      );
      const body = await res.text();
      if (res.status !== 201) throw new Error(`WHEP POST answered ${res.status}: ${body}`);
    } else {
      const res = await withTimeout(
        fetch(`${url}/liveview/webrtc_offer`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ detectorName: detector, sdp, type: 'offer' }),
        }),
        CLIENT_TIMEOUT_MS,
        'webrtc_offer',
      );
      const answer = (await res.json()) as { type?: string };
      if (res.status !== 200 || answer.type !== 'answer')
        throw new Error(`webrtc_offer answered ${res.status}: ${JSON.stringify(answer)}`);
    }
  } finally {
    await viewer.close();
  }
}

/** WHEP POST, then DELETE on the session's Location (the viewer never connects). */
export async function whepPostDelete(url: string, detector: string): Promise<void> {
  const viewer = new TestViewer({ codecs: ['VP8'] });
  try {
    const sdp = await withTimeout(viewer.offer(), CLIENT_TIMEOUT_MS, 'werift offer');
    const res = await withTimeout(
      fetch(`${url}/liveview/whep/${encodeURIComponent(detector)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: sdp,
      }),
      CLIENT_TIMEOUT_MS,
      'WHEP POST',
    );
    await res.text();
    const location = res.headers.get('location');
    if (res.status !== 201 || !location) throw new Error(`WHEP POST answered ${res.status}`);
    const del = await withTimeout(
      fetch(new URL(location, url), { method: 'DELETE' }),
      CLIENT_TIMEOUT_MS,
      'WHEP DELETE',
    );
    await del.text();
    if (del.status !== 200) throw new Error(`WHEP DELETE answered ${del.status}`);
  } finally {
    await viewer.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The two well-behaved clients that run throughout

/**
 * One MJPEG reader and one binary client that acknowledges every frame, connected for the whole
 * soak; their frames are counted (and their buffers emptied) on every `count()`. A client the
 * server drops is reconnected and the drop is recorded.
 */
export class WellBehavedClients {
  mjpegFrames = 0;
  binaryFrames = 0;
  readonly drops: string[] = [];
  private mjpeg: MultipartReader | undefined;
  private binary: BinaryClient | undefined;
  private reconnecting = false;
  private stopped = false;

  constructor(
    private readonly mjpegUrl: string,
    private readonly binaryUrl: string,
  ) {}

  async start(): Promise<void> {
    openClients.add(this);
    await Promise.all([this.connectMjpeg(), this.connectBinary()]);
  }

  /** Adds the frames received since the last call to the totals; reconnects dropped clients. */
  count(): void {
    if (this.mjpeg) {
      this.mjpegFrames += this.mjpeg.parts.length;
      this.mjpeg.parts.splice(0);
    }
    if (this.binary) {
      for (const m of this.binary.messages) if (m.kind === 'frame') this.binaryFrames++;
      this.binary.messages.splice(0);
    }
    if (this.stopped || this.reconnecting) return;
    const mjpegDropped = this.mjpeg && (this.mjpeg.ended || this.mjpeg.error);
    const binaryDropped = this.binary && this.binary.closeCode !== undefined;
    if (!mjpegDropped && !binaryDropped) return;
    this.reconnecting = true;
    void (async () => {
      try {
        if (mjpegDropped) {
          this.drops.push(`MJPEG: ${this.mjpeg?.error?.message ?? 'response ended'}`);
          this.mjpeg?.close();
          await this.connectMjpeg();
        }
        if (binaryDropped) {
          this.drops.push(`binary: closed ${this.binary?.closeCode} ${this.binary?.closeReason}`);
          await this.connectBinary();
        }
      } catch (err) {
        this.drops.push(`reconnect failed: ${(err as Error).message}`);
      } finally {
        this.reconnecting = false;
      }
    })();
  }

  close(): void {
    this.stopped = true;
    this.mjpeg?.close();
    void this.binary?.close();
  }

  private async connectMjpeg(): Promise<void> {
    const reader = new MultipartReader();
    this.mjpeg = reader;
    await withTimeout(reader.connect(this.mjpegUrl), CLIENT_TIMEOUT_MS, 'MJPEG headers');
  }

  private async connectBinary(): Promise<void> {
    const client = new BinaryClient();
    client.ackDelayMs = 0;
    this.binary = client;
    await withTimeout(client.connect(this.binaryUrl), CLIENT_TIMEOUT_MS, 'binary connect');
  }
}
