// TURN REST API credentials (draft-uberti-behave-turn-rest-00, coturn's `use-auth-secret`):
// the TURN server and liveview share a secret; liveview mints a short-lived username and
// password for each viewer, and the TURN server checks them with the same secret, no database.
// Pure: no I/O, the clock is an argument.
import { createHmac } from 'node:crypto';

/** Lifetime of minted TURN credentials in seconds when a TURN server gives none (default 86400, the draft's). */
export const DEFAULT_TURN_TTL_S = 86_400;

/** Longest user part of a minted username, in characters (the subject is cut to this). */
export const MAX_TURN_USER_LENGTH = 64;

/** Credentials minted for one viewer and one TURN server. */
export interface TurnRestCredential {
  /** `<expiry unix seconds>:<user>`. */
  readonly username: string;
  /** base64(HMAC-SHA1(secret, username)). */
  readonly credential: string;
  /** When the TURN server stops accepting them, in unix seconds. */
  readonly expiresAt: number;
}

/** An ICE server as the browser's RTCPeerConnection takes it (RTCIceServer). */
export interface IceServer {
  /** One URL, or several of the same server (`stun:`, `turn:` …). */
  urls: string | string[];
  /** TURN user name. */
  username?: string;
  /** TURN password. */
  credential?: string;
}

/** What the TURN credentials are minted from: one configured TURN server. */
export interface TurnServerConfig {
  /** `turn:`/`turns:` URLs. */
  readonly urls: readonly string[];
  /** Static user name (without `secret`). */
  readonly username?: string;
  /** Static password (without `secret`). */
  readonly credential?: string;
  /** Shared secret of the TURN REST API (`static-auth-secret` in coturn). */
  readonly secret?: string;
  /** Lifetime of minted credentials in seconds (default DEFAULT_TURN_TTL_S). */
  readonly ttl_s?: number;
}

/** The ICE servers of a stream's params. */
export interface IceServerConfig {
  /** `stun:` URLs. */
  readonly stun_servers: readonly string[];
  /** TURN servers. */
  readonly turn_servers: readonly TurnServerConfig[];
}

/** ICE servers for one viewer, and when the first of their credentials expires. */
export interface ViewerIceServers {
  /** In RTCIceServer shape: STUN servers, then TURN servers (minted credentials where a secret is set). */
  iceServers: IceServer[];
  /** Unix seconds at which the first minted credential expires; null when none was minted. */
  expiresAt: number | null;
}

/**
 * The user part of a minted username: the principal's subject, with every character that is not
 * printable ASCII, or is `:` (the username's separator), `"` or `\` (it travels in WHEP `Link`
 * headers), replaced by `_`, cut to MAX_TURN_USER_LENGTH; `anonymous` when nothing is left.
 */
export function turnUser(subject: string | undefined): string {
  const clean = (subject ?? '')
    .replace(/[^\x20-\x7e]|[:"\\]/gu, '_')
    .slice(0, MAX_TURN_USER_LENGTH);
  return clean.length > 0 ? clean : 'anonymous';
}

/**
 * Mints TURN REST API credentials: username `<expiry>:<user>` with expiry = now + `ttlS`
 * (unix seconds), credential base64(HMAC-SHA1(`secret`, username)). `user` should come from
 * turnUser(); `nowMs` is the clock (Date.now()).
 */
export function mintTurnCredential(
  secret: string,
  user: string,
  ttlS: number,
  nowMs: number,
): TurnRestCredential {
  const expiresAt = Math.floor(nowMs / 1000) + ttlS;
  const username = `${expiresAt}:${user}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

/**
 * The ICE servers a viewer gets: each STUN URL, each TURN server with its static username and
 * credential, or with credentials minted for `user` at `nowMs` when it has a `secret`. TURN
 * servers without URLs are left out.
 */
export function viewerIceServers(
  params: IceServerConfig,
  user: string,
  nowMs: number,
): ViewerIceServers {
  const iceServers: IceServer[] = params.stun_servers.map((urls) => ({ urls }));
  let expiresAt: number | null = null;
  for (const t of params.turn_servers) {
    if (t.urls.length === 0) continue;
    const urls = [...t.urls];
    if (t.secret !== undefined) {
      const minted = mintTurnCredential(t.secret, user, t.ttl_s ?? DEFAULT_TURN_TTL_S, nowMs);
      iceServers.push({ urls, username: minted.username, credential: minted.credential });
      expiresAt = expiresAt === null ? minted.expiresAt : Math.min(expiresAt, minted.expiresAt);
    } else {
      iceServers.push({
        urls,
        ...(t.username !== undefined ? { username: t.username } : {}),
        ...(t.credential !== undefined ? { credential: t.credential } : {}),
      });
    }
  }
  return { iceServers, expiresAt };
}
