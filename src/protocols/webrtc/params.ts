import { isIPv6 } from 'node:net';
import { IsOptional, ValidateBy, ValidateNested, type ValidationOptions } from 'class-validator';
import { Type } from 'class-transformer';
import { IntegerIn, OneOf, StreamParams, TextList, isMapping } from '../../index.js';

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

/** A TURN username or credential: it goes into WHEP `Link` headers. */
function HeaderSafeText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'headerSafeText',
      validator: {
        validate: isHeaderSafe,
        defaultMessage: () =>
          'must be a non-empty string of printable ASCII without quotes or backslashes (it is sent in WHEP Link headers)',
      },
    },
    options,
  );
}

const STUN_EXAMPLE =
  'STUN URL such as stun:stun.example.org:3478 (RFC 7064: stun: or stuns:, host, optional port)';
const TURN_EXAMPLE =
  'TURN URL such as turn:turn.example.org:3478?transport=udp (RFC 7065: turn: or turns:, host, optional port, optional ?transport=udp|tcp)';

/** A TURN server, as in RTCIceServer. */
export class TurnServer {
  /** turn: or turns: URLs (RFC 7065). */
  @UrlList(isTurnUrl, TURN_EXAMPLE)
  urls: string[] = [];

  /** User name (printable ASCII without quotes or backslashes). */
  @IsOptional()
  @HeaderSafeText()
  username?: string;

  /** Password (printable ASCII without quotes or backslashes). */
  @IsOptional()
  @HeaderSafeText()
  credential?: string;
}

/** Params of a WebRTC stream. */
export class WebrtcParams extends StreamParams {
  /** Preferred codec (default VP8); a viewer whose offer lacks it gets the other one. */
  @OneOf(VIDEO_CODECS)
  codec: VideoCodec = 'VP8';

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

  /** TURN servers (objects with urls, username, credential; default none). */
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
