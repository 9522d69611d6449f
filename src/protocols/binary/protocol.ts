import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { IsOptional } from 'class-validator';
import {
  Text,
  errorMessage,
  hasRole,
  injectable,
  principalOf,
  selectSubprotocol,
  remoteOf,
  type Protocol,
  type ProtocolContext,
  type StreamHub,
  type WorkerContext,
} from '../../index.js';
import { BinaryParams } from './params.js';
import { BinarySession } from './session.js';
import { BinaryWorker } from './worker.js';

/** Path of the WebSocket endpoint. */
export const BINARY_PATH = '/liveview/binary';
/** Largest message a client may send, in bytes (control messages are small JSON). */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/** The client messages there are, for error messages. */
const CLIENT_MESSAGES = 'ack, getStatus, setParams';

/** Query of the WebSocket URL (documented; the handshake reads it itself). */
class BinaryQuery {
  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;
}

/** The endpoint's entry in GET /openapi.json. */
const BINARY_DOC = {
  summary: "A detector's full-bit-depth frames as UC2F packets (binary messages)",
  description:
    'The server sends a JSON `hello`, then one binary UC2F packet per frame, at most `max_in_flight` unacknowledged. The client sends JSON text: `{"type":"ack","frameNumber":n}`, `{"type":"getStatus"}`, and `{"type":"setParams","params":{…}}` (operator role).',
  role: 'viewer',
  query: BinaryQuery,
} as const;

/** Close codes (RFC 6455) used for clients that send what they must not. */
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_INVALID_PAYLOAD = 1007;
const CLOSE_POLICY_VIOLATION = 1008;

/** Lossless frames (UC2F packets) over WebSocket, with credit-based flow control. */
@injectable()
export class BinaryProtocol implements Protocol<BinaryParams, BinaryWorker> {
  readonly name = 'binary';
  readonly description =
    'Lossless full-bit-depth frames (UC2F packets, none/LZ4/Zstandard) over WebSocket';
  readonly paramsClass = BinaryParams;
  private wss: WebSocketServer | undefined;

  createWorker(context: WorkerContext<BinaryParams>): BinaryWorker {
    return new BinaryWorker(context);
  }

  clientUrl(detectorName: string): string {
    return `${BINARY_PATH}?detectorName=${encodeURIComponent(detectorName)}`;
  }

  attach({ hub, websockets }: ProtocolContext<BinaryWorker>): void {
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      handleProtocols: selectSubprotocol,
    });
    this.wss = wss;
    websockets.route(
      BINARY_PATH,
      (req, socket, head, url) => this.accept(wss, hub, req, socket, head, url),
      BINARY_DOC,
    );
  }

  async close(): Promise<void> {
    const wss = this.wss;
    this.wss = undefined;
    if (!wss) return;
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  private async accept(
    wss: WebSocketServer,
    hub: StreamHub<BinaryWorker>,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
  ): Promise<void> {
    const worker = await hub.ensure(url.searchParams.get('detectorName') ?? undefined);
    try {
      if (socket.destroyed) return;
      await new Promise<void>((resolve) => {
        // A handshake that fails (bad key, socket gone) never calls back: the close ends the wait.
        socket.once('close', () => resolve());
        wss.handleUpgrade(req, socket, head, (ws) => {
          this.join(hub, worker, ws, remoteOf(req.socket), hasRole(principalOf(req), 'operator'));
          resolve();
        });
      });
    } finally {
      hub.release(worker);
    }
  }

  private join(
    hub: StreamHub<BinaryWorker>,
    worker: BinaryWorker,
    ws: WebSocket,
    remote: string,
    mayTune: boolean,
  ): void {
    const session = new BinarySession(ws, remote, worker.params.max_in_flight, (s) =>
      worker.removeSession(s),
    );
    ws.on('error', () => session.close('socket error', 1011));
    ws.on('message', (data, isBinary) =>
      this.onMessage(session, worker, hub, data, isBinary, mayTune),
    );
    session.sendJson({
      type: 'hello',
      detectorName: worker.detectorName,
      protocol: this.name,
      format: 'UC2F',
      version: 1,
      params: worker.params,
    });
    worker.addSession(session);
  }

  private onMessage(
    session: BinarySession,
    worker: BinaryWorker,
    hub: StreamHub<BinaryWorker>,
    data: RawData,
    isBinary: boolean,
    mayTune: boolean,
  ): void {
    if (isBinary) {
      session.close(
        `binary messages are not accepted; send JSON text (${CLIENT_MESSAGES})`,
        CLOSE_UNSUPPORTED_DATA,
      );
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch (err) {
      session.close(`invalid JSON: ${errorMessage(err)}`, CLOSE_INVALID_PAYLOAD);
      return;
    }
    const type = (message as { type?: unknown } | null)?.type;
    switch (type) {
      case 'ack': {
        const frameNumber = (message as { frameNumber?: unknown }).frameNumber;
        if (frameNumber !== undefined && typeof frameNumber !== 'number') {
          session.close('ack: frameNumber must be a number', CLOSE_POLICY_VIOLATION);
          return;
        }
        session.acknowledge(frameNumber);
        return;
      }
      case 'getStatus': {
        const stream = hub.status(worker.detectorName);
        session.sendJson({ type: 'status', stream, unacknowledged: session.unacknowledged });
        return;
      }
      case 'setParams':
        if (!mayTune) {
          // Refused, not closed: the client may go on watching.
          session.sendJson({
            type: 'error',
            message: 'setParams needs the operator role; this connection has a weaker one',
          });
          return;
        }
        try {
          // Through the hub like any other client's change, so the controller sees it.
          hub.updateParams(worker.detectorName, (message as { params?: unknown }).params);
        } catch (err) {
          // A well-formed request with a bad value is the client's mistake, not garbage: it stays.
          session.sendJson({ type: 'error', message: errorMessage(err) });
        }
        return;
      default:
        session.close(
          `a message must be a JSON object with a known 'type' (${CLIENT_MESSAGES})`,
          CLOSE_POLICY_VIOLATION,
        );
    }
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}
