import { randomUUID } from 'node:crypto';
import { fetchWithTimeout } from './fetch-with-timeout.js';

/** Janus core error: the session does not exist (expired, or Janus restarted). */
export const JANUS_NO_SUCH_SESSION = 458;
/** Janus core error: the handle does not exist. */
export const JANUS_NO_SUCH_HANDLE = 459;

/** An error answer of Janus (core or plugin), with its code; or a transport failure (code 0). */
export class JanusError extends Error {
  constructor(
    message: string,
    /** Janus's error code (core 4xx, Streaming plugin 45x), 0 for a network or HTTP failure. */
    readonly code: number,
  ) {
    super(message);
    this.name = 'JanusError';
  }
}

/** How to reach one Janus instance over its HTTP API. */
export interface JanusEndpoint {
  /** The API root, e.g. `http://edge1:8088/janus`. */
  url: string;
  /** Its `api_secret`, if configured (sent as `apisecret` in every request). */
  apiSecret?: string;
  /** Timeout of one request, in ms. */
  timeoutMs: number;
}

/** One answer of the Janus API, as JSON. */
type JanusAnswer = Record<string, unknown> & {
  janus?: string;
  data?: { id?: number };
  error?: { code?: number; reason?: string };
  plugindata?: { data?: Record<string, unknown> };
};

/** POSTs one Janus API request; resolves with the answer, rejects with JanusError for an error answer. */
async function post(
  endpoint: JanusEndpoint,
  path: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<JanusAnswer> {
  const request = {
    ...body,
    transaction: randomUUID(),
    ...(endpoint.apiSecret ? { apisecret: endpoint.apiSecret } : {}),
  };
  return answerOf(
    endpoint,
    await send(
      endpoint,
      `${endpoint.url.replace(/\/+$/, '')}${path}`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(request),
      },
      signal,
    ),
  );
}

function send(
  endpoint: JanusEndpoint,
  url: string,
  init: RequestInit,
  signal?: AbortSignal,
): Promise<Response> {
  return fetchWithTimeout(
    url,
    init,
    endpoint.timeoutMs,
    signal,
    (reason) => new JanusError(`Janus at ${endpoint.url} unreachable: ${reason}`, 0),
  );
}

async function answerOf(endpoint: JanusEndpoint, res: Response): Promise<JanusAnswer> {
  let answer: JanusAnswer;
  try {
    answer = (await res.json()) as JanusAnswer;
  } catch {
    throw new JanusError(`Janus at ${endpoint.url} answered HTTP ${res.status}, not JSON`, 0);
  }
  if (answer.janus === 'error') {
    const code = answer.error?.code ?? 0;
    throw new JanusError(`Janus error ${code}: ${answer.error?.reason ?? 'unknown'}`, code);
  }
  return answer;
}

/**
 * A session on a Janus instance, over the plain HTTP API (no library): `create` it, `attach` to a
 * plugin, send synchronous plugin requests, keep it alive, destroy it. A session that Janus no
 * longer knows (it restarted, or the session timed out) fails with code JANUS_NO_SUCH_SESSION.
 */
export class JanusSession {
  private constructor(
    readonly endpoint: JanusEndpoint,
    /** The session id. */
    readonly id: number,
  ) {}

  /** Creates a session; `signal` cancels the request. */
  static async create(endpoint: JanusEndpoint, signal?: AbortSignal): Promise<JanusSession> {
    const answer = await post(endpoint, '', { janus: 'create' }, signal);
    const id = answer.data?.id;
    if (typeof id !== 'number') throw new JanusError('Janus answered create without an id', 0);
    return new JanusSession(endpoint, id);
  }

  /** Attaches to a plugin (e.g. `janus.plugin.streaming`); `signal` cancels the request. */
  async attach(plugin: string, signal?: AbortSignal): Promise<JanusHandle> {
    const answer = await post(this.endpoint, `/${this.id}`, { janus: 'attach', plugin }, signal);
    const id = answer.data?.id;
    if (typeof id !== 'number') throw new JanusError('Janus answered attach without an id', 0);
    return new JanusHandle(this, id);
  }

  /** Tells Janus the session is in use (it expires after Janus's `session_timeout` otherwise). */
  async keepalive(): Promise<void> {
    await post(this.endpoint, `/${this.id}`, { janus: 'keepalive' });
  }

  /**
   * Waits for the session's next events (long poll, at most `maxEvents`); resolves with none
   * when Janus's poll times out (about 30 s).
   */
  async poll(maxEvents = 10, signal?: AbortSignal): Promise<JanusAnswer[]> {
    const url = `${this.endpoint.url.replace(/\/+$/, '')}/${this.id}?maxev=${maxEvents}&rid=${Date.now()}${
      this.endpoint.apiSecret ? `&apisecret=${encodeURIComponent(this.endpoint.apiSecret)}` : ''
    }`;
    const res = await fetch(url, { signal });
    const answer = (await res.json()) as JanusAnswer | JanusAnswer[];
    const events = Array.isArray(answer) ? answer : [answer];
    const failure = events.find((e) => e.janus === 'error');
    if (failure) {
      const code = failure.error?.code ?? 0;
      throw new JanusError(`Janus error ${code}: ${failure.error?.reason ?? 'unknown'}`, code);
    }
    return events.filter((e) => e.janus !== 'keepalive');
  }

  /** Destroys the session (its handles are detached by Janus). */
  async destroy(): Promise<void> {
    await post(this.endpoint, `/${this.id}`, { janus: 'destroy' });
  }
}

/** A handle attached to a plugin within a session. */
export class JanusHandle {
  constructor(
    /** Its session. */
    readonly session: JanusSession,
    /** The handle id. */
    readonly id: number,
  ) {}

  /**
   * Sends a synchronous plugin request (`create`, `info`, `destroy`…) and resolves with the
   * plugin's answer (`plugindata.data`); a plugin error (`error_code`) rejects with JanusError.
   * `signal` cancels it.
   */
  async request(
    body: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const answer = await this.message(body, undefined, signal);
    const data = answer.plugindata?.data;
    if (!data)
      throw new JanusError(`Janus answered ${String(body.request)} without plugin data`, 0);
    if (typeof data.error_code === 'number') {
      throw new JanusError(
        `Janus ${String(body.request)}: ${String(data.error ?? 'error')}`,
        data.error_code,
      );
    }
    return data;
  }

  /** Sends a plugin message as it is (asynchronous requests are acknowledged, their events polled). */
  message(
    body: Record<string, unknown>,
    jsep?: { type: string; sdp: string },
    signal?: AbortSignal,
  ): Promise<JanusAnswer> {
    return post(
      this.session.endpoint,
      `/${this.session.id}/${this.id}`,
      { janus: 'message', body, ...(jsep ? { jsep } : {}) },
      signal,
    );
  }
}
