import { fetchWithTimeout } from './fetch-with-timeout.js';

/** An ICE server announced by a WHIP endpoint in a `Link: <url>; rel="ice-server"` header. */
export interface WhipIceServer {
  urls: string;
  username?: string;
  credential?: string;
}

/** A WHIP endpoint and how to authenticate to it. */
export interface WhipEndpoint {
  /** The endpoint URL (the POST goes here). */
  url: string;
  /** Bearer token, if any. */
  token?: string;
  /** Timeout of one request, in ms. */
  timeoutMs: number;
}

/** A published WHIP session. */
export interface WhipSession {
  /** The SDP answer. */
  answer: string;
  /** The session resource (absolute URL), DELETEd on stop. */
  resource: string;
  /** ICE servers from the answer's `Link` headers. */
  iceServers: WhipIceServer[];
}

/** A WHIP request that failed: HTTP status (0 for a network failure) and a message for the status. */
export class WhipError extends Error {
  constructor(
    message: string,
    /** HTTP status, 0 if no answer came. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'WhipError';
  }
}

function headers(
  endpoint: WhipEndpoint,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { ...extra, ...(endpoint.token ? { Authorization: `Bearer ${endpoint.token}` } : {}) };
}

function request(
  endpoint: WhipEndpoint,
  url: string,
  init: RequestInit,
  signal?: AbortSignal,
): Promise<Response> {
  return fetchWithTimeout(
    url,
    { ...init, redirect: 'follow' },
    endpoint.timeoutMs,
    signal,
    (reason) => new WhipError(`WHIP endpoint ${endpoint.url} unreachable: ${reason}`, 0),
  );
}

/**
 * Parses `Link` header values into ICE servers (RFC 9725 section 4.6: `<stun:…>; rel="ice-server"`,
 * TURN with `username` and `credential`); other links are ignored.
 */
export function parseIceLinks(values: string[]): WhipIceServer[] {
  const servers: WhipIceServer[] = [];
  for (const value of values) {
    // One header may carry several links, separated by commas outside <…> and quotes.
    for (const link of value.match(/<[^>]*>(?:\s*;\s*[^,;=]+(?:=(?:"[^"]*"|[^,;]*))?)*/g) ?? []) {
      const url = /^<([^>]*)>/.exec(link)?.[1];
      if (!url || !/^(stuns?|turns?):/i.test(url)) continue;
      const params = new Map<string, string>();
      for (const m of link.matchAll(/;\s*([^=;,\s]+)\s*=\s*(?:"([^"]*)"|([^;,]*))/g)) {
        params.set(m[1].toLowerCase(), (m[2] ?? m[3] ?? '').trim());
      }
      if (params.get('rel') !== 'ice-server') continue;
      const username = params.get('username');
      const credential = params.get('credential');
      servers.push({
        urls: url,
        ...(username !== undefined ? { username } : {}),
        ...(credential !== undefined ? { credential } : {}),
      });
    }
  }
  return servers;
}

/** The `Link` values of an answer. */
function linksOf(res: Response): string[] {
  const value = res.headers.get('link');
  return value ? [value] : [];
}

/**
 * Asks the endpoint for its ICE servers before offering (`OPTIONS`, answered with `Link`
 * headers by some endpoints); none if it does not say.
 */
export async function whipIceServers(
  endpoint: WhipEndpoint,
  signal?: AbortSignal,
): Promise<WhipIceServer[]> {
  try {
    const res = await request(
      endpoint,
      endpoint.url,
      { method: 'OPTIONS', headers: headers(endpoint) },
      signal,
    );
    await res.body?.cancel();
    return res.ok ? parseIceLinks(linksOf(res)) : [];
  } catch {
    return [];
  }
}

/** Publishes: POSTs the offer, expects 201 with an SDP answer and a `Location` (RFC 9725 section 4.2). */
export async function whipPublish(
  endpoint: WhipEndpoint,
  offer: string,
  signal?: AbortSignal,
): Promise<WhipSession> {
  const res = await request(
    endpoint,
    endpoint.url,
    {
      method: 'POST',
      headers: headers(endpoint, { 'Content-Type': 'application/sdp' }),
      body: offer,
    },
    signal,
  );
  const text = await res.text().catch(() => '');
  if (res.status !== 201) {
    const detail = text.replace(/\s+/g, ' ').trim().slice(0, 200);
    const what =
      res.status === 401 || res.status === 403
        ? 'refused the credential (check whip.bearer_token)'
        : `answered HTTP ${res.status}`;
    throw new WhipError(
      `WHIP endpoint ${endpoint.url} ${what}${detail ? `: ${detail}` : ''}`,
      res.status,
    );
  }
  const location = res.headers.get('location');
  if (!location)
    throw new WhipError(`WHIP endpoint ${endpoint.url} answered 201 without a Location`, 201);
  if (!text.startsWith('v=0')) {
    throw new WhipError(`WHIP endpoint ${endpoint.url} answered 201 without an SDP answer`, 201);
  }
  return {
    answer: text,
    resource: new URL(location, res.url || endpoint.url).toString(),
    iceServers: parseIceLinks(linksOf(res)),
  };
}

/** Ends a WHIP session (`DELETE` of its resource); failures are returned, not thrown. */
export async function whipDelete(
  endpoint: WhipEndpoint,
  resource: string,
): Promise<string | undefined> {
  try {
    const res = await request(endpoint, resource, { method: 'DELETE', headers: headers(endpoint) });
    await res.body?.cancel();
    return res.ok || res.status === 404 ? undefined : `DELETE answered HTTP ${res.status}`;
  } catch (err) {
    return (err as Error).message;
  }
}
