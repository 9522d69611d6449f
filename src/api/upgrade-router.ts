import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.js';
import type { WebSocketDoc } from '../core/api-routes.js';
import type { UpgradeHandler, WebSocketRoutes } from '../core/protocol.js';
import { errorBody, httpErrorOf } from './errors.js';

/**
 * The server's one `upgrade` listener: protocols register WebSocket paths; an unknown path, or
 * a handler that fails, is answered with the same JSON error and status as REST.
 */
export class UpgradeRouter implements WebSocketRoutes {
  private readonly exact = new Map<string, UpgradeHandler>();
  private readonly prefixes: [string, UpgradeHandler][] = [];
  private readonly guards: UpgradeGuard[] = [];
  private readonly registered: WebSocketEndpoint[] = [];

  constructor(private readonly logger: Logger) {}

  /** Adds a check every upgrade passes before its handler runs (hosts, origins, credentials), in order. */
  guard(guard: UpgradeGuard): void {
    this.guards.push(guard);
  }

  /** The registered endpoints with their documentation, for GET /openapi.json. */
  get endpoints(): readonly WebSocketEndpoint[] {
    return this.registered;
  }

  /** The same router for one protocol: its endpoints are listed under `tag` (its name). */
  scoped(tag: string): WebSocketRoutes {
    return { route: (path, handler, doc) => this.route(path, handler, doc, tag) };
  }

  /**
   * Routes upgrades of `path` (exact; a path ending in `/` also takes everything below it); `doc`
   * and `tag` describe it in the OpenAPI document (default tag: websockets).
   */
  route(path: string, handler: UpgradeHandler, doc?: WebSocketDoc, tag = 'websockets'): void {
    if (!path.startsWith('/')) throw new TypeError(`WebSocket path must start with '/': ${path}`);
    if (this.exact.has(path) || this.prefixes.some(([p]) => p === path))
      throw new Error(`WebSocket path ${path} is already taken`);
    this.registered.push({ path, tag, doc });
    if (path.endsWith('/') && path.length > 1) {
      this.prefixes.push([path, handler]);
      // The most specific prefix wins, whatever the order the protocols registered in.
      this.prefixes.sort(([a], [b]) => b.length - a.length);
    } else this.exact.set(path, handler);
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
    // Checked here, before a handler starts a stream, so that a bad handshake gets the JSON error
    // too (a WebSocket library would answer it in its own format).
    const problem = handshakeProblem(req);
    if (problem) {
      rejectUpgrade(socket, problem.status, problem.message, problem.headers);
      return;
    }
    const fail = (err: unknown): void => {
      const { status, message, headers } = httpErrorOf(err);
      if (status >= 500) this.logger.error({ err, path: url.pathname }, 'WebSocket upgrade failed');
      rejectUpgrade(socket, status, message, headers);
    };
    this.guarded(req, url)
      .then(() => handler(req, socket, head, url))
      .catch(fail);
  }

  private async guarded(req: IncomingMessage, url: URL): Promise<void> {
    for (const guard of this.guards) await guard(req, url);
  }
}

/** A registered WebSocket endpoint as the OpenAPI document lists it. */
export interface WebSocketEndpoint {
  /** Its path (ending in `/`: everything below it too). */
  path: string;
  /** The document's group for it (the protocol's name). */
  tag: string;
  /** Its documentation; none for an endpoint registered without. */
  doc?: WebSocketDoc;
}

/** A check of an upgrade request; it throws a LiveViewError (401, 403…) to refuse it. */
export type UpgradeGuard = (req: IncomingMessage, url: URL) => void | Promise<void>;

/** Sec-WebSocket-Key: 16 bytes in base64 (RFC 6455 section 4.1). */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** What is wrong with a WebSocket opening handshake (RFC 6455 section 4.2.1), if anything. */
function handshakeProblem(
  req: IncomingMessage,
): { status: number; message: string; headers?: Record<string, string> } | undefined {
  if (req.method !== 'GET') {
    return {
      status: 405,
      message: `a WebSocket handshake must be a GET request, not ${req.method}`,
      headers: { Allow: 'GET' },
    };
  }
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
    return { status: 400, message: "invalid WebSocket handshake: Upgrade must be 'websocket'" };
  }
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !WEBSOCKET_KEY.test(key)) {
    return {
      status: 400,
      message: 'invalid WebSocket handshake: missing or invalid Sec-WebSocket-Key header',
    };
  }
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    return {
      status: 400,
      message: `invalid WebSocket handshake: unsupported Sec-WebSocket-Version ${version ?? '(none)'} (supported: 13, 8)`,
      headers: { 'Sec-WebSocket-Version': '13, 8' },
    };
  }
  return undefined;
}

/** Answers an upgrade request with an HTTP error and the JSON error body, then closes the socket. */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      'Connection: close\r\n\r\n' +
      body,
  );
}
