import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData } from 'ws';
import {
  LiveViewError,
  errorMessage,
  injectable,
  parseStreamParams,
  type LiveViewController,
  type Protocol,
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

/** Close codes (RFC 6455) used for clients that send what they must not. */
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_INVALID_PAYLOAD = 1007;
const CLOSE_POLICY_VIOLATION = 1008;

/** Lossless frames (UC2F packets) over WebSocket, with credit-based flow control. */
@injectable()
export class BinaryProtocol implements Protocol<BinaryParams> {
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

  attach(server: Server, controller: LiveViewController): void {
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
    this.wss = wss;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== BINARY_PATH) {
        // Another protocol may take it; if none listens, answer rather than leave it hanging.
        if (server.listenerCount('upgrade') === 1)
          rejectUpgrade(socket, 404, `no WebSocket endpoint at ${url.pathname}`);
        return;
      }
      this.accept(wss, controller, req, socket, head, url).catch((err: unknown) => {
        const status = err instanceof LiveViewError ? err.status : 500;
        rejectUpgrade(socket, status, errorMessage(err));
      });
    });
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
    controller: LiveViewController,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
  ): Promise<void> {
    const worker = (await controller.ensureStream(
      url.searchParams.get('detectorName') ?? undefined,
      this.name,
    )) as BinaryWorker;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      const session = new BinarySession(ws, remote, worker.params.max_in_flight, (s) =>
        worker.removeSession(s),
      );
      ws.on('error', () => session.close('socket error', 1011));
      ws.on('message', (data, isBinary) =>
        this.onMessage(session, worker, controller, data, isBinary),
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
    });
  }

  private onMessage(
    session: BinarySession,
    worker: BinaryWorker,
    controller: LiveViewController,
    data: RawData,
    isBinary: boolean,
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
        const stream = controller
          .getActiveStreams()
          .find((s) => s.detectorName === worker.detectorName && s.protocol === this.name);
        session.sendJson({ type: 'status', stream, unacknowledged: session.unacknowledged });
        return;
      }
      case 'setParams':
        try {
          const params = parseStreamParams(
            BinaryParams,
            (message as { params?: unknown }).params,
            'params',
            worker.params,
          );
          worker.updateParams(params);
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

/** Answers an upgrade request with an HTTP error and a JSON body, then closes the socket. */
function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ status: 'error', message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status < 500 ? 'Bad Request' : 'Internal Server Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
