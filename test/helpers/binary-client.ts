import { Decoder } from '@toondepauw/node-zstd';
import { decompressFrameSync } from 'lz4-napi';
import WebSocket from 'ws';
import {
  parsePacket,
  pixelsOf,
  type Compression,
  type ParsedPacket,
} from '../../src/protocols/binary/packet.js';

/** A decoded UC2F packet. */
export interface ReceivedFrame extends ParsedPacket {
  /** Frame number from the trailer (every liveview packet has one). */
  frameNumber: number;
  /** The decompressed pixels. */
  pixels: Uint8Array | Uint16Array | Uint32Array | Float32Array;
  /** Size of the whole packet. */
  packetBytes: number;
}

/** Every message in the order received: JSON objects and frames. */
export type ReceivedMessage =
  { kind: 'json'; message: Record<string, unknown> } | { kind: 'frame'; frame: ReceivedFrame };

const zstd = new Decoder();

/** Decompresses a payload with Node's libraries (independent of the browser decoder). */
export function decompress(payload: Uint8Array, compression: Compression): Uint8Array {
  const buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (compression === 'lz4') return decompressFrameSync(buffer);
  if (compression === 'zstd') return zstd.decodeSync(buffer);
  return payload;
}

/**
 * A binary-protocol client for tests: decodes every packet with the compression announced
 * before it, records everything, and acknowledges frames (immediately, after a delay, or never).
 */
export class BinaryClient {
  readonly messages: ReceivedMessage[] = [];
  closeCode: number | undefined;
  closeReason = '';
  /** Milliseconds before acknowledging a frame; null = never acknowledge. */
  ackDelayMs: number | null = 0;
  /** Most frames received and not yet acknowledged at any moment. */
  maxOutstanding = 0;
  private outstanding = 0;
  private announced: Compression = 'none';
  private socket!: WebSocket;
  private closed!: Promise<void>;

  /** Connects; resolves when open, rejects with the HTTP status if the upgrade is refused. */
  async connect(url: string): Promise<this> {
    this.socket = new WebSocket(url);
    this.closed = new Promise((resolve) =>
      this.socket.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      }),
    );
    this.socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    await new Promise<void>((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
      });
      this.socket.once('error', reject);
    });
    return this;
  }

  /** Frames received so far. */
  get frames(): ReceivedFrame[] {
    return this.messages.flatMap((m) => (m.kind === 'frame' ? [m.frame] : []));
  }

  /** JSON messages of a type. */
  json(type: string): Record<string, unknown>[] {
    return this.messages.flatMap((m) =>
      m.kind === 'json' && m.message.type === type ? [m.message] : [],
    );
  }

  /** Sends a text or binary message as is. */
  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** Sends a JSON message. */
  send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Resolves when the server closed the socket. */
  waitClosed(): Promise<void> {
    return this.closed;
  }

  /** Closes the socket; resolves when closed. */
  async close(): Promise<void> {
    if (
      this.socket.readyState === WebSocket.OPEN ||
      this.socket.readyState === WebSocket.CONNECTING
    ) {
      this.socket.terminate();
    }
    await this.closed;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      if (message.type === 'compression') this.announced = message.algorithm as Compression;
      this.messages.push({ kind: 'json', message });
      return;
    }
    const packet = parsePacket(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const raw = decompress(packet.payload, this.announced);
    if (packet.frameNumber === undefined) throw new Error('a liveview packet without trailer');
    const frame = {
      ...packet,
      frameNumber: packet.frameNumber,
      pixels: pixelsOf(packet, raw),
      packetBytes: data.length,
    };
    this.messages.push({ kind: 'frame', frame });
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    if (this.ackDelayMs === null) return;
    const ack = () => {
      if (this.socket.readyState === WebSocket.OPEN) {
        this.outstanding--;
        this.send({ type: 'ack', frameNumber: frame.frameNumber });
      }
    };
    if (this.ackDelayMs === 0) ack();
    else setTimeout(ack, this.ackDelayMs);
  }
}

/** The server refused the WebSocket upgrade with an HTTP error. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with ${status}: ${body}`);
  }
}
