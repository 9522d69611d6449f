import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import { startServer, type LiveViewServer } from '../../src/api/server.js';
import { FIXTURES_DIR } from './server.js';

/** Static tokens of the auth tests, one per role (each at least 16 characters). */
export const TOKENS = {
  viewer: 'viewer-token-0123456789-abcdef',
  operator: 'operator-token-0123456789-abcdef',
  admin: 'admin-token-0123456789-abcdefghij',
} as const;

/** A token no config lists. */
export const WRONG_TOKEN = 'wrong-token-0123456789-zyxwvut';

/** The `auth:` section giving each of TOKENS its role (indented for the top level). */
export const AUTH_TOKENS_YAML = `
auth:
  tokens:
    - { name: vera-viewer, token: ${TOKENS.viewer}, role: viewer }
    - { name: otto-operator, token: ${TOKENS.operator}, role: operator }
    - { name: ada-admin, token: ${TOKENS.admin}, role: admin }
`;

/** A small simulated camera and WebRTC on loopback only. */
export const AUTH_DETECTOR_YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 160, height: 120, fps: 30 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1] }
`;

/** Starts the real server on 127.0.0.1 and a free port (or `host`), logging nothing unless given a logger. */
export function startAuthServer(
  yaml: string,
  options: { logger?: Logger; host?: string } = {},
): Promise<LiveViewServer> {
  return startServer({
    configText: yaml,
    configDir: FIXTURES_DIR,
    port: 0,
    host: options.host ?? '127.0.0.1',
    ...(options.logger ? { logger: options.logger } : { logLevel: 'silent' }),
  });
}

/** A credential for one request. */
export interface Credential {
  /** Sent as `Authorization: Bearer <bearer>`. */
  bearer?: string;
  /** Sent as the `Cookie` header as is. */
  cookie?: string;
}

/** Headers carrying `credential`. */
export function credentialHeaders(credential: Credential = {}): Record<string, string> {
  const headers: Record<string, string> = {};
  if (credential.bearer !== undefined) headers.Authorization = `Bearer ${credential.bearer}`;
  if (credential.cookie !== undefined) headers.Cookie = credential.cookie;
  return headers;
}

/** An HTTP answer read in full. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

/** Makes one request (no redirects followed) and reads the whole answer. */
export async function call(
  url: string,
  init: {
    method?: string;
    credential?: Credential;
    headers?: Record<string, string>;
    json?: unknown;
    body?: string;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...credentialHeaders(init.credential) };
  let body = init.body;
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  Object.assign(headers, init.headers);
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body,
    redirect: 'manual',
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The `name=value` of a Set-Cookie header (for a Cookie header), or undefined. */
export function cookiePair(setCookie: string | null): string | undefined {
  return setCookie ? setCookie.split(';')[0] : undefined;
}

/** Logs in with `token`; the login's answer and the `liveview_session=…` pair it set. */
export async function login(
  base: string,
  token: string,
): Promise<{ answer: Answer; setCookie: string | null; cookie: string | undefined }> {
  const answer = await call(`${base}/auth/login`, { method: 'POST', json: { token } });
  const setCookie = answer.headers.get('set-cookie');
  return { answer, setCookie, cookie: cookiePair(setCookie) };
}

/** A WebSocket opened (or refused) for a test. */
export interface TestSocket {
  /** The socket (closed by `close`). */
  ws: WebSocket;
  /** JSON text messages received, in order. */
  messages: Record<string, unknown>[];
  /** Resolves when open; rejects with the refusal's status and JSON body. */
  opened: Promise<void>;
  /** Resolves with the next JSON message of `type` (already received ones included). */
  next(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Terminates the socket; resolves when closed. */
  close(): Promise<void>;
}

/** The server refused a WebSocket upgrade: status and body as the client saw them. */
export class WsRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`WebSocket refused with ${status}: ${body}`);
  }

  /** The body as the JSON error. */
  get json(): { status: string; message: string } {
    return JSON.parse(this.body) as { status: string; message: string };
  }
}

/** Opens a WebSocket with `ws` (headers and subprotocols as given), recording JSON messages. */
export function openSocket(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): TestSocket {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    messages.push(JSON.parse((data as Buffer).toString()) as Record<string, unknown>);
    for (const w of [...waiters]) w();
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        reject(new WsRefused(res.statusCode ?? 0, body));
        ws.terminate();
      });
    });
    // Kept for good: terminating a refused handshake emits a second error.
    ws.on('error', reject);
  });
  // A refusal nobody awaits must not become an unhandled rejection.
  opened.catch(() => undefined);
  let seen = 0;
  return {
    ws,
    messages,
    opened,
    next(type, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          for (; seen < messages.length; seen++) {
            if (messages[seen].type === type) {
              resolve(messages[seen++]);
              return true;
            }
          }
          return false;
        };
        if (check()) return;
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no '${type}' message within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (): void => {
          if (!check()) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(waiter), 1);
        };
        waiters.push(waiter);
      });
    },
    async close() {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      await closed;
    },
  };
}

/** One captured pino line. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A real pino logger (every level) writing JSON lines into memory. */
export function memoryLogger(): { logger: Logger; text: () => string; lines: () => LogLine[] } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const logger = pino({ level: 'trace' }, sink);
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as LogLine),
  };
}
