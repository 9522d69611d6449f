import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.js';
import type { UpgradeHandler, WebSocketRoutes } from '../core/protocol.js';
import { errorBody, httpErrorOf } from './errors.js';

/**
 * The server's one `upgrade` listener: protocols register WebSocket paths; an unknown path, or
 * a handler that fails, is answered with the same JSON error and status as REST.
 */
export class UpgradeRouter implements WebSocketRoutes {
  private readonly exact = new Map<string, UpgradeHandler>();
  private readonly prefixes: [string, UpgradeHandler][] = [];

  constructor(private readonly logger: Logger) {}

  /** Routes upgrades of `path` (exact; a path ending in `/` also takes everything below it). */
  route(path: string, handler: UpgradeHandler): void {
    if (!path.startsWith('/')) throw new TypeError(`WebSocket path must start with '/': ${path}`);
    if (this.exact.has(path) || this.prefixes.some(([p]) => p === path))
      throw new Error(`WebSocket path ${path} is already taken`);
    if (path.endsWith('/') && path.length > 1) this.prefixes.push([path, handler]);
    else this.exact.set(path, handler);
  }

  /** Starts answering the server's upgrade requests. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handle(req, socket, head),
    );
  }

  /** Dispatches one upgrade request. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A socket error before the handshake completes must not become an uncaught exception.
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      rejectUpgrade(socket, 400, `invalid request target: ${req.url}`);
      return;
    }
    const handler =
      this.exact.get(url.pathname) ??
      this.prefixes.find(
        ([p]) => url.pathname.startsWith(p) || url.pathname === p.slice(0, -1),
      )?.[1];
    if (!handler) {
      rejectUpgrade(socket, 404, `no WebSocket endpoint at ${url.pathname}`);
      return;
    }
    const fail = (err: unknown): void => {
      const { status, message } = httpErrorOf(err);
      if (status >= 500) this.logger.error({ err, path: url.pathname }, 'WebSocket upgrade failed');
      rejectUpgrade(socket, status, message);
    };
    try {
      const result = handler(req, socket, head, url);
      if (result) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  }
}

/** Answers an upgrade request with an HTTP error and the JSON error body, then closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
