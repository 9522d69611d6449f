import { isIP } from 'node:net';
import { IsOptional, ValidateBy, type ValidationOptions } from 'class-validator';
import { ConfigError } from './errors.js';
import { IntegerIn, Mapping, keyPath, validateInto } from './validation.js';

/** The request classes that are rate limited; reads (GET, HEAD, OPTIONS of status routes) are not. */
export const RATE_LIMIT_CLASSES = ['signaling', 'control', 'login'] as const;

/** A rate-limited class of requests (see src/api/rate-limits.ts for which request is which). */
export type RateLimitClass = (typeof RATE_LIMIT_CLASSES)[number];

/** Largest `max` accepted: beyond this a limit means nothing (write 0 to turn it off). */
const MAX_LIMIT = 1_000_000;

/** Longest window: a day (express-rate-limit keeps a timer of this period). */
const MAX_WINDOW_S = 86_400;

/** One class's limit: at most `max` requests per client address in each `window_s` seconds. */
export class RateLimit {
  /** Requests per client address and window, 0..1000000; 0 turns the limit off (default: per class). */
  @IntegerIn(0, MAX_LIMIT)
  max = 0;

  /** Window length in seconds, 1..86400: a fixed window from a client's first request (default 60). */
  @IntegerIn(1, MAX_WINDOW_S)
  window_s = 60;
}

/** `server.rate_limits.signaling`: viewer sessions started (default 600 per 60 s). */
export class SignalingLimit extends RateLimit {
  /** Default 600: a page reload costs a few (an offer, trickle PATCHes), a flood costs thousands. */
  override max = 600;
}

/** `server.rate_limits.control`: state-changing REST requests (default 1200 per 60 s). */
export class ControlLimit extends RateLimit {
  /** Default 1200: 20 per second, a parameter slider dragged without debouncing. */
  override max = 1200;
}

/** `server.rate_limits.login`: POST /auth/login attempts (default 30 per 60 s). */
export class LoginLimit extends RateLimit {
  /** Default 30: a person retyping a token never gets near it; guessing is slowed. */
  override max = 30;
}

/** `server.rate_limits:` checked, with every class present. */
export class RateLimitsConfig {
  /** Starting viewer sessions: WebRTC offers, WHEP, MJPEG and snapshot clients, WebSocket upgrades. */
  signaling: RateLimit = new SignalingLimit();
  /** State-changing REST requests under /liveview and /auth (other than login). */
  control: RateLimit = new ControlLimit();
  /** Login attempts (POST /auth/login). */
  login: RateLimit = new LoginLimit();
}

/** `server.rate_limits:` as written; each class is checked on its own for its key path. */
class RateLimitsSection {
  /** See RateLimitsConfig.signaling. */
  @IsOptional()
  @Mapping()
  signaling?: Record<string, unknown>;

  /** See RateLimitsConfig.control. */
  @IsOptional()
  @Mapping()
  control?: Record<string, unknown>;

  /** See RateLimitsConfig.login. */
  @IsOptional()
  @Mapping()
  login?: Record<string, unknown>;
}

/** The class that checks each limit, with its own default. */
const LIMIT_CLASSES: Record<RateLimitClass, new () => RateLimit> = {
  signaling: SignalingLimit,
  control: ControlLimit,
  login: LoginLimit,
};

/**
 * Checks `server.rate_limits` (`path` is its key path); problems go to `problems`, and a broken
 * class keeps its default so that the other checks still run.
 */
export function parseRateLimits(raw: unknown, path: string, problems: string[]): RateLimitsConfig {
  const config = new RateLimitsConfig();
  const check = (run: () => void): void => {
    try {
      run();
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  };
  let section: RateLimitsSection | undefined;
  check(() => {
    section = validateInto(RateLimitsSection, raw, path);
  });
  for (const name of RATE_LIMIT_CLASSES) {
    const value = section?.[name];
    if (value === undefined) continue;
    check(() => {
      config[name] = validateInto(LIMIT_CLASSES[name], value, keyPath(path, name));
    });
  }
  return config;
}

/**
 * `server.trust_proxy` as express takes it: false (use the socket's address), a hop count, or the
 * proxies' addresses / CIDRs / express's names (loopback, linklocal, uniquelocal).
 */
export type TrustProxy = false | number | string | string[];

/** Names express's `trust proxy` accepts for address ranges. */
const TRUST_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** Whether `entry` is an address, a CIDR, an address/netmask or a range name express accepts. */
function isProxyEntry(entry: string): boolean {
  const text = entry.trim();
  if (TRUST_PROXY_NAMES.includes(text)) return true;
  const [address, range, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

/** Property must be a valid `trust_proxy` value; `true` is refused (any client could set its address). */
export function TrustProxySetting(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'trustProxy',
      validator: {
        validate: (v) =>
          v === false ||
          (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100) ||
          (typeof v === 'string' && v.split(',').every(isProxyEntry)) ||
          (Array.isArray(v) &&
            v.length > 0 &&
            v.every((e) => typeof e === 'string' && isProxyEntry(e))),
        defaultMessage: (args) =>
          args?.value === true
            ? 'true would let any client choose its address (X-Forwarded-For); list the proxy addresses or give a hop count'
            : `must be false, a hop count (integer 0..100), or a list of proxy addresses, CIDRs or ${TRUST_PROXY_NAMES.join(', ')}`,
      },
    },
    options,
  );
}
