import { IsOptional, ValidateBy } from 'class-validator';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { Flag, IntegerIn, Mapping, OneOf, Text, isMapping, validateInto } from './validation.js';

/** Relay names appear in URLs and in Janus mountpoint names: kept as simple as detector names. */
export const RELAY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** An http(s) URL (the Janus HTTP API root, a WHIP endpoint). */
const HTTP_URL = /^https?:\/\/[^\s/?#]+(?:[/?#]\S*)?$/i;

/** Property must be an http:// or https:// URL. */
function HttpUrl(): PropertyDecorator {
  return ValidateBy({
    name: 'httpUrl',
    constraints: [HTTP_URL.source],
    validator: {
      validate: (v: unknown) => typeof v === 'string' && HTTP_URL.test(v),
      defaultMessage: () => 'must be an http:// or https:// URL',
    },
  });
}

/** One Janus instance a `janus` relay feeds (`relays.<name>.janus.servers[i]`). */
export class JanusServerConfig {
  /** The Janus HTTP API root, e.g. `http://edge1:8088/janus` (required). */
  @HttpUrl()
  url = '';

  /** Janus's API secret (`api_secret` in janus.jcfg), if it has one (default none). */
  @IsOptional()
  @Text()
  api_secret?: string;

  /** The Streaming plugin's `admin_key`, if it has one: `create` needs it (default none). */
  @IsOptional()
  @Text()
  admin_key?: string;

  /** Host the RTP is sent to (default: the host of `url`). */
  @IsOptional()
  @Text()
  rtp_host?: string;

  /** Address or interface Janus binds the mountpoint's ports to (`iface`; default: all). */
  @IsOptional()
  @Text()
  bind?: string;

  /** Port of the mountpoint's video (default 0: Janus picks one from its `rtp_port_range`). */
  @IntegerIn(0, 65535)
  video_port = 0;

  /** Port of the mountpoint's metadata data stream (default 0: Janus picks one). */
  @IntegerIn(0, 65535)
  data_port = 0;
}

/** `relays.<name>.janus`: a mountpoint of Janus's Streaming plugin on each server, fed by RTP. */
export class JanusRelayConfig {
  /** The Janus instances to feed (at least one): each gets the same mountpoint. */
  servers: JanusServerConfig[] = [];

  /** Mountpoint id on every server (default: derived from the relay's name, stable across restarts). */
  @IsOptional()
  @IntegerIn(1, 2 ** 31 - 1)
  mountpoint_id?: number;

  /** Mountpoint description viewers see in Janus's `list` (default: `liveview <detector>`). */
  @IsOptional()
  @Text()
  description?: string;

  /** Mountpoint secret (needed to see its ports in `info` or to destroy it; default none). */
  @IsOptional()
  @Text()
  secret?: string;

  /** PIN viewers must give to `watch` (default none). */
  @IsOptional()
  @Text()
  pin?: string;

  /** Leave the mountpoint out of Janus's `list` (default false). */
  @Flag()
  is_private = false;

  /** Multicast group the RTP is sent to instead of each server's host; Janus joins it (default none). */
  @IsOptional()
  @Text()
  multicast?: string;

  /** TTL of multicast packets (default 1: the local network). */
  @IntegerIn(1, 255)
  multicast_ttl = 1;

  /** Send each frame's metadata (JSON) as the mountpoint's data stream (default true). */
  @Flag()
  metadata = true;

  /** RTP payload type of the video (default 96). */
  @IntegerIn(96, 127)
  payload_type = 96;

  /** A keyframe at least this often, in ms: Janus viewers' PLIs do not reach liveview (default 2000). */
  @IntegerIn(250, 60_000)
  keyframe_interval_ms = 2000;

  /** How often each server is asked whether the mountpoint is still there (`info`), in ms (default 2000). */
  @IntegerIn(200, 30_000)
  poll_interval_ms = 2000;

  /** Timeout of one Janus HTTP request, in ms (default 5000). */
  @IntegerIn(100, 60_000)
  request_timeout_ms = 5000;
}

/** `relays.<name>.whip`: publish the stream to a WHIP endpoint (RFC 9725). */
export class WhipRelayConfig {
  /** The WHIP endpoint (required). */
  @HttpUrl()
  url = '';

  /** Sent as `Authorization: Bearer <token>` (default none). */
  @IsOptional()
  @Text()
  bearer_token?: string;

  /** First wait before publishing again after the endpoint went away, in ms; doubles up to `reconnect_max_ms` (default 1000). */
  @IntegerIn(100, 600_000)
  reconnect_min_ms = 1000;

  /** Longest wait between two attempts, in ms (default 30000). */
  @IntegerIn(100, 3_600_000)
  reconnect_max_ms = 30_000;

  /** Timeout of one WHIP HTTP request, in ms (default 10000). */
  @IntegerIn(100, 60_000)
  request_timeout_ms = 10_000;
}

/** The kinds of relay. */
export const RELAY_TYPES = ['janus', 'whip'] as const;
/** A kind of relay. */
export type RelayType = (typeof RELAY_TYPES)[number];

/** One entry of `relays:`: a detector's WebRTC stream fed to Janus servers or a WHIP endpoint. */
export class RelayConfig {
  /** The detector whose WebRTC stream is relayed (required). */
  @Text()
  detector = '';

  /** The codec relayed; the stream's encoder of that codec is shared with its viewers (default H264). */
  @OneOf(['H264', 'VP8'])
  codec: 'H264' | 'VP8' = 'H264';

  /** Feed Janus servers (exactly one of `janus` and `whip`). */
  @IsOptional()
  @Mapping()
  janus?: JanusRelayConfig;

  /** Publish by WHIP (exactly one of `janus` and `whip`). */
  @IsOptional()
  @Mapping()
  whip?: WhipRelayConfig;
}

/** A relay with its name, as `relays:` and `POST /liveview/relays` define it. */
export interface NamedRelayConfig {
  /** Unique name. */
  name: string;
  /** The relay. */
  config: RelayConfig;
}

/** The kind of a checked relay. */
export function relayType(config: RelayConfig): RelayType {
  return config.janus ? 'janus' : 'whip';
}

/**
 * Checks one relay; throws ConfigError naming each wrong key under `path`
 * (`relays.hall.janus.servers[0].url: must be an http:// or https:// URL`).
 */
export function parseRelayConfig(raw: unknown, path: string): RelayConfig {
  let janus: unknown;
  let whip: unknown;
  let rest = raw;
  if (isMapping(raw)) ({ janus, whip, ...rest } = raw);
  const problems: string[] = [];
  const collect = <T>(check: () => T): T | undefined => {
    try {
      return check();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  const config = collect(() => validateInto(RelayConfig, rest, path)) ?? new RelayConfig();
  const hasJanus = janus !== undefined && janus !== null;
  const hasWhip = whip !== undefined && whip !== null;
  if (hasJanus === hasWhip) {
    problems.push(
      `${path}: needs exactly one of 'janus' (feed Janus servers) and 'whip' (publish to a WHIP endpoint)`,
    );
  }
  if (hasJanus) config.janus = collect(() => parseJanus(janus, `${path}.janus`));
  if (hasWhip) {
    config.whip = collect(() => validateInto(WhipRelayConfig, whip, `${path}.whip`));
    if (config.whip && config.whip.reconnect_max_ms < config.whip.reconnect_min_ms)
      problems.push(`${path}.whip.reconnect_max_ms: must be at least reconnect_min_ms`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function parseJanus(raw: unknown, path: string): JanusRelayConfig {
  let servers: unknown;
  let rest = raw;
  if (isMapping(raw)) ({ servers, ...rest } = raw);
  const problems: string[] = [];
  let config = new JanusRelayConfig();
  try {
    config = validateInto(JanusRelayConfig, rest, path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (!Array.isArray(servers) || servers.length === 0) {
    problems.push(`${path}.servers: must be a list of Janus servers, each with its url`);
  } else {
    servers.forEach((server, i) => {
      try {
        config.servers.push(validateInto(JanusServerConfig, server, `${path}.servers[${i}]`));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
      }
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Checks `relays:` (a mapping of names to relays); problems go to `problems`. */
export function parseRelaysConfig(raw: unknown, problems: string[]): NamedRelayConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!isMapping(raw)) {
    problems.push('relays: must be a mapping of relay names to relays');
    return [];
  }
  const relays: NamedRelayConfig[] = [];
  for (const [name, entry] of Object.entries(raw)) {
    if (!RELAY_NAME.test(name)) {
      problems.push(
        `relays.${name}: a relay name may only contain letters, digits, '_', '-' and '.'`,
      );
      continue;
    }
    try {
      relays.push({ name, config: parseRelayConfig(entry, `relays.${name}`) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  return relays;
}

/**
 * Token of the relays of `relays:` and the logger they report to, bound in the container before
 * the plugins are loaded: the WebRTC protocol injects it (optionally) to start them.
 */
export const RelaysSetup = Symbol.for('liveview.RelaysSetup');
/** What RelaysSetup gives. */
export interface RelaysSetup {
  /** The relays of the config file, checked. */
  relays: NamedRelayConfig[];
  /** The server's logger. */
  logger: Logger;
}
