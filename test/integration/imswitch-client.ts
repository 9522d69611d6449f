import { decode } from '@msgpack/msgpack';
import { io, type Socket } from 'socket.io-client';
import { parsePacket, pixelsOf, type ParsedPacket } from '../../src/protocols/binary/packet.js';
import { decompress } from '../helpers/binary-client.js';

/** An HTTP answer: status, headers and the body as JSON (undefined when it is none). */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  json: unknown;
  text: string;
}

/**
 * Calls ImSwitch's API the way its web app's backendapi/ files do (axios with `baseURL` …/imswitch/api):
 * `query` becomes the query string, `body` the JSON body (`null`: axios's `post(url, null)`, i.e.
 * no body with Content-Type application/json).
 */
export async function imswitchCall(
  base: string,
  path: string,
  options: {
    method?: 'GET' | 'POST';
    query?: Record<string, string | number | boolean>;
    body?: unknown;
    bearer?: string;
  } = {},
): Promise<ApiAnswer> {
  const url = new URL(`${base}/imswitch/api${path}`);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = {};
  if (options.bearer) headers.Authorization = `Bearer ${options.bearer}`;
  let body: string | undefined;
  if (options.method === 'POST') {
    headers['Content-Type'] = 'application/json';
    if (options.body !== null && options.body !== undefined) body = JSON.stringify(options.body);
  }
  const res = await fetch(url, { method: options.method ?? 'GET', headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** A `frame` event decoded as the web app's WebSocketHandler does. */
export interface SocketFrame {
  metadata: Record<string, unknown>;
  /** binary: the UC2F packet, parsed, with its decompressed pixels. */
  packet?: ParsedPacket & { pixels: Uint8Array | Uint16Array | Uint32Array | Float32Array };
  /** jpeg: the JPEG bytes. */
  jpeg?: Buffer;
}

/**
 * A Socket.IO client like ImSwitch's web app: path /imswitch/socket.io/, WebSocket transport,
 * `frame` events decoded from msgpack and acknowledged with `frame_ack {frame_id}` (or not).
 */
export class ImswitchSocket {
  readonly socket: Socket;
  readonly frames: SocketFrame[] = [];
  capabilities: Record<string, unknown> | undefined;
  /** Acknowledge every frame (false: never, as a client that stopped reading). */
  acking = true;

  constructor(
    base: string,
    options: { extraHeaders?: Record<string, string>; protocols?: string[] } = {},
  ) {
    this.socket = io(base, {
      path: '/imswitch/socket.io/',
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      extraHeaders: options.extraHeaders,
      protocols: options.protocols,
    });
    this.socket.on('server_capabilities', (c: Record<string, unknown>) => (this.capabilities = c));
    this.socket.on('frame', (payload: Uint8Array) => {
      const decoded = decode(payload) as {
        metadata: Record<string, unknown>;
        data?: Uint8Array;
        image?: string;
      };
      const frame: SocketFrame = { metadata: decoded.metadata };
      if (decoded.data) {
        // Into an ArrayBuffer of its own, as the web app does before it parses the packet.
        const packet = parsePacket(new Uint8Array(decoded.data));
        frame.packet = {
          ...packet,
          pixels: pixelsOf(packet, decompress(packet.payload, packet.compression ?? 'none')),
        };
      }
      if (typeof decoded.image === 'string') frame.jpeg = Buffer.from(decoded.image, 'base64');
      this.frames.push(frame);
      if (this.acking) this.ack(decoded.metadata.frame_id);
    });
  }

  /** Resolves when connected; rejects with the connection error. */
  connected(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', (err) => reject(err));
    });
  }

  /** Acknowledges a frame as the web app does. */
  ack(frameId: unknown): void {
    this.socket.emit('frame_ack', { frame_id: frameId });
  }

  /** Disconnects. */
  close(): void {
    this.socket.close();
  }
}
