import { isIPv6 } from 'node:net';
import { IsOptional, ValidateBy, ValidateNested, type ValidationOptions } from 'class-validator';
import { Transform, Type } from 'class-transformer';
import { IntegerIn, OneOf, StreamParams, TextList, isMapping } from '../../index.js';
import { isPlaceholder, redact, unredact } from './redaction.js';
import { DEFAULT_TURN_TTL_S } from './turn-credentials.js';

/** Video codecs liveview encodes for WebRTC. */
export const VIDEO_CODECS = ['VP8', 'H264'] as const;
/** A WebRTC video codec. */
export type VideoCodec = (typeof VIDEO_CODECS)[number];

/** RFC 3986 host: an IP literal in brackets, or an IPv4 address / registered name. */
const HOST = String.raw`(\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)`;
/** RFC 7064: `stun:` / `stuns:` host [":" port]. */
const STUN_URL = new RegExp(String.raw`^stuns?:${HOST}(?::(\d{1,5}))?$`, 'i');
/** RFC 7065: `turn:` / `turns:` host [":" port] ["?transport=" udp|tcp]. */
const TURN_URL = new RegExp(
  String.raw`^turns?:${HOST}(?::(\d{1,5}))?(?:\?transport=(?:udp|tcp))?$`,
  'i',
);

function hostAndPortOk(m: RegExpExecArray | null): boolean {
  if (!m) return false;
  const [, host, port] = m;
  if (host.startsWith('[') && !isIPv6(host.slice(1, -1))) return false;
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

/** True for a STUN URL as RFC 7064 writes it (`stun:host[:port]`, `stuns:` for TLS). */
export function isStunUrl(url: unknown): boolean {
  return typeof url === 'string' && hostAndPortOk(STUN_URL.exec(url));
}

/** True for a TURN URL as RFC 7065 writes it (`turn:host[:port][?transport=udp|tcp]`, `turns:`). */
export function isTurnUrl(url: unknown): boolean {
  return typeof url === 'string' && hostAndPortOk(TURN_URL.exec(url));
}

/**
 * True for a TURN username or credential that can travel in a WHEP `Link` header's quoted string:
 * printable ASCII without `"` or `\` (no CR/LF, no control characters).
 */
export function isHeaderSafe(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    /^[\x20-\x7e]*$/.test(value) &&
    !/["\\]/.test(value)
  );
}

/** A list of URLs that `valid` accepts; the message names the first wrong item by its index. */
function UrlList(
  valid: (url: unknown) => boolean,
  what: string,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name: 'urlList',
      validator: {
        validate: (v) => Array.isArray(v) && v.every(valid),
        defaultMessage: (args) => {
          const list: unknown = args?.value;
          if (!Array.isArray(list)) return 'must be a list of strings';
          const i = list.findIndex((u) => !valid(u));
          return `[${i}] ${JSON.stringify(list[i]) ?? String(list[i])} must be a ${what}`;
        },
      },
    },
    options,
  );
}

const PLACEHOLDER_MESSAGE =
  'is a placeholder for a hidden value that this server does not know (it restarted, or the params came from another server): send the real value';

/** A TURN username or credential: it goes into WHEP `Link` headers. */
function HeaderSafeText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'headerSafeText',
      validator: {
        validate: (v) => isHeaderSafe(v) && !isPlaceholder(v),
        defaultMessage: (args) =>
          isPlaceholder(args?.value)
            ? PLACEHOLDER_MESSAGE
            : 'must be a non-empty string of printable ASCII without quotes or backslashes (it is sent in WHEP Link headers)',
      },
    },
    options,
  );
}

/** A TURN REST API secret: printable ASCII, and not together with a static username or credential. */
function TurnSecret(options?: ValidationOptions): PropertyDecorator {
  const printable = (v: unknown) =>
    typeof v === 'string' && v.length > 0 && v.length <= 1024 && /^[\x20-\x7e]*$/.test(v);
  const alone = (o: object) => {
    const t = o as TurnServer;
    return t.username === undefined && t.credential === undefined;
  };
  return ValidateBy(
    {
      name: 'turnSecret',
      validator: {
        // The value is never part of a message: a secret must not reach a log or an answer.
        validate: (v, args) => printable(v) && !isPlaceholder(v) && alone(args!.object),
        defaultMessage: (args) => {
          if (isPlaceholder(args?.value)) return PLACEHOLDER_MESSAGE;
          if (!printable(args?.value))
            return 'must be a string of 1..1024 printable ASCII characters';
          return 'give either secret (liveview mints a username and credential per viewer) or a static username and credential, not both';
        },
      },
    },
    options,
  );
}

/** Shows a secret value as a placeholder in answers (see redaction.ts). */
const hidden = (v: string | undefined) => (v === undefined ? undefined : redact(v));

const STUN_EXAMPLE =
  'STUN URL such as stun:stun.example.org:3478 (RFC 7064: stun: or stuns:, host, optional port)';
const TURN_EXAMPLE =
  'TURN URL such as turn:turn.example.org:3478?transport=udp (RFC 7065: turn: or turns:, host, optional port, optional ?transport=udp|tcp)';

/**
 * A TURN server, as in RTCIceServer: a static `username` and `credential`, or a `secret` shared
 * with the TURN server (TURN REST API, coturn's `use-auth-secret`) from which liveview mints a
 * username and credential per viewer. `credential` and `secret` are shown as placeholders in
 * every answer that shows params (toJSON); sending a placeholder back keeps the value.
 */
export class TurnServer {
  /** turn: or turns: URLs (RFC 7065). */
  @UrlList(isTurnUrl, TURN_EXAMPLE)
  urls: string[] = [];

  /** Static user name (printable ASCII without quotes or backslashes; default none). */
  @IsOptional()
  @HeaderSafeText()
  username?: string;

  /** Static password (printable ASCII without quotes or backslashes; default none). */
  @IsOptional()
  @Transform(({ value }) => unredact(value), { toClassOnly: true })
  @HeaderSafeText()
  credential?: string;

  /** TURN REST API shared secret (coturn `static-auth-secret`; default none), instead of username/credential. */
  @IsOptional()
  @Transform(({ value }) => unredact(value), { toClassOnly: true })
  @TurnSecret()
  secret?: string;

  /** Lifetime in seconds of the credentials minted from `secret`, 60..604800 (default 86400). */
  @IntegerIn(60, 604_800)
  ttl_s = DEFAULT_TURN_TTL_S;

  /** What answers show: `credential` and `secret` as placeholders. */
  toJSON(): Omit<TurnServer, 'toJSON'> {
    return { ...this, credential: hidden(this.credential), secret: hidden(this.secret) };
  }
}

/** Params of a WebRTC stream. */
export class WebrtcParams extends StreamParams {
  /** Preferred codec (default H264: a third of VP8's encoding time and a smaller jitter buffer in browsers); a viewer whose offer lacks it gets the other one. */
  @OneOf(VIDEO_CODECS)
  codec: VideoCodec = 'H264';

  /** Highest target bitrate in bit/s (default 4 000 000). */
  @IntegerIn(50_000, 100_000_000)
  max_bitrate = 4_000_000;

  /** Lowest target bitrate in bit/s when viewers report less bandwidth (default 300 000). */
  @IntegerIn(50_000, 100_000_000)
  min_bitrate = 300_000;

  /**
   * Longest time in ms between two keyframes, 200..60000 (default 2000): a viewer that never asks
   * for one (no PLI/FIR) still gets a picture within this time.
   */
  @IntegerIn(200, 60_000)
  keyframe_interval_ms = 2000;

  /** STUN server URLs given to peers, `stun:host[:port]` (default none: loopback and LAN need none). */
  @UrlList(isStunUrl, STUN_EXAMPLE)
  stun_servers: string[] = [];

  /** Local addresses ICE offers as host candidates (default none: every interface, plus 127.0.0.1). */
  @TextList()
  ice_host_addresses: string[] = [];

  /** Viewer addresses ICE may use, e.g. [127.0.0.1] to keep media on loopback (default none: any). */
  @TextList()
  ice_remote_addresses: string[] = [];

  /** TURN servers ({urls, username, credential} or {urls, secret, ttl_s}; default none). */
  @ValidateNested({ each: true })
  @Type(() => TurnServer)
  @ValidateBy({
    name: 'turnServerList',
    validator: {
      // Each element a mapping: a list element ([[]]) would pass the nested check and break ICE.
      validate: (v) => Array.isArray(v) && v.every((e) => isMapping(e)),
      defaultMessage: () => 'must be a list of {urls, username, credential} mappings',
    },
  })
  turn_servers: TurnServer[] = [];
}
