import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Server } from 'node:net';
import type { Express, Request, RequestHandler } from 'express';
import { MemoryStore, ipKeyGenerator, rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { LiveViewError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  RATE_LIMIT_CLASSES,
  type RateLimit,
  type RateLimitClass,
  type RateLimitsConfig,
} from '../core/rate-limit-config.js';
import type { UpgradeGuard } from './upgrade-router.js';
import { imswitchRateClass } from './imswitch/rate-class.js';

/** IPv6 clients are counted by /56 network: one subscriber usually holds a whole prefix. */
const IPV6_SUBNET = 56;

/** How a class's requests are named in the 429 message. */
const NOUNS: Record<RateLimitClass, string> = {
  signaling: 'signaling requests',
  control: 'control requests',
  login: 'login attempts',
};

/** Methods that change nothing: only the stream routes among them are limited. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** MJPEG and snapshot routes (src/protocols/mjpeg): each GET starts a stream client. */
const STREAM_GETS = new Set(['/liveview/mjpeg', '/liveview/snapshot.jpg']);

/**
 * The path as express routes it: case-insensitively, with or without a trailing slash. Percent
 * escapes are decoded so that an encoded name is counted like the plain one.
 */
function routedPath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape never matches a route; it is classified as written.
  }
  return decoded.toLowerCase().replace(/\/+$/, '') || '/';
}

/** Whether `path` is `prefix` or below it. */
function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * The rate-limit class of an HTTP request, or undefined when it is not limited (reads, CORS
 * preflights, anything outside /liveview and /auth). `path` is the URL path without the query.
 */
export function classifyRequest(method: string, path: string): RateLimitClass | undefined {
  const verb = method.toUpperCase();
  if (verb === 'OPTIONS') return undefined;
  const p = routedPath(path);
  // ImSwitch's API (src/api/imswitch) by route: its stopLiveView changes state with a GET.
  const imswitch = imswitchRateClass(p);
  if (imswitch) return imswitch;
  // Every WHEP method is part of starting (or ending) a viewer session.
  if (under(p, '/liveview/whep')) return 'signaling';
  if (STREAM_GETS.has(p) && (verb === 'GET' || verb === 'HEAD')) return 'signaling';
  if (SAFE_METHODS.has(verb)) return undefined;
  if (p === '/liveview/webrtc_offer') return 'signaling';
  if (p === '/auth/login') return 'login';
  if (under(p, '/liveview') || under(p, '/auth')) return 'control';
  return undefined;
}

/** The 429 answer: which limit, when to retry, and the key that raises it. */
function tooManyRequests(
  name: RateLimitClass,
  limit: RateLimit,
  client: string,
  resetTime: Date | undefined,
): LiveViewError {
  const retryS = Math.max(
    1,
    Math.ceil(((resetTime?.getTime() ?? Date.now() + limit.window_s * 1000) - Date.now()) / 1000),
  );
  return new LiveViewError(
    `too many ${NOUNS[name]} from ${client}: limit ${limit.max} per ${limit.window_s} s; ` +
      `retry in ${retryS} s (server.rate_limits.${name}.max raises the limit, 0 turns it off)`,
    429,
    { 'Retry-After': String(retryS) },
  );
}

/** One class's limiter: the express middleware and, for signaling, the store upgrades count in. */
interface ClassLimiter {
  limit: RateLimit;
  store: MemoryStore;
  middleware: RequestHandler;
}

/** The rate limiters of one app: one fixed-window counter per class and client address. */
class RateLimiters {
  private readonly limiters = new Map<RateLimitClass, ClassLimiter>();
  private warnedForwarded = false;

  constructor(
    config: RateLimitsConfig,
    private readonly logger: Logger,
    private readonly trustsProxy: boolean,
  ) {
    for (const name of RATE_LIMIT_CLASSES) {
      const limit = config[name];
      if (limit.max === 0) continue;
      // Our own store, so that WebSocket upgrades count in the same window as HTTP signaling.
      const store = new MemoryStore();
      const middleware = rateLimit({
        windowMs: limit.window_s * 1000,
        limit: limit.max,
        store,
        ipv6Subnet: IPV6_SUBNET,
        // RateLimit and RateLimit-Policy headers tell well-behaved clients how much is left.
        standardHeaders: 'draft-8',
        legacyHeaders: false,
        identifier: name,
        // A closed socket (no address) is normal under churn, and forwarding headers get our own
        // warning below, in terms of our config.
        validate: { ip: false, xForwardedForHeader: false, forwardedHeader: false },
        handler: (req, _res, next) => {
          const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
          this.refused(name, limit, req.ip ?? 'unknown', info?.used ?? 0);
          next(tooManyRequests(name, limit, req.ip ?? 'unknown', info?.resetTime));
        },
        // Its remaining configuration checks report to our log, not to the console.
        logger: {
          error: (err, msg) => this.logger.error({ err }, msg ?? 'rate limiter'),
          warn: (err, msg) => this.logger.warn({ err }, msg ?? 'rate limiter'),
        },
      });
      this.limiters.set(name, { limit, store, middleware });
    }
  }

  /** Counts each request in its class; over the limit it fails with the 429 LiveViewError. */
  readonly middleware: RequestHandler = (req, res, next) => {
    const name = classifyRequest(req.method, req.path);
    const limiter = name && this.limiters.get(name);
    if (!limiter) {
      next();
      return;
    }
    this.checkForwarded(req.headers);
    void limiter.middleware(req, res, next);
  };

  /** Counts every WebSocket upgrade as signaling, in the HTTP signaling window of its address. */
  guard(app: Express): UpgradeGuard {
    return async (req) => {
      const limiter = this.limiters.get('signaling');
      if (!limiter) return;
      this.checkForwarded(req.headers);
      const ip = clientAddress(app, req) ?? 'unknown';
      const { totalHits, resetTime } = await limiter.store.increment(
        ipKeyGenerator(ip, IPV6_SUBNET),
      );
      if (totalHits <= limiter.limit.max) return;
      this.refused('signaling', limiter.limit, ip, totalHits);
      throw tooManyRequests('signaling', limiter.limit, ip, resetTime);
    };
  }

  /** Stops the stores' cleanup timers. */
  close(): void {
    for (const { store } of this.limiters.values()) store.shutdown();
  }

  /**
   * Warns once when a proxy seems to forward requests that are counted by the proxy's address:
   * all its clients then share one window.
   */
  private checkForwarded(headers: IncomingHttpHeaders): void {
    if (this.trustsProxy || this.warnedForwarded) return;
    if (headers['x-forwarded-for'] === undefined && headers.forwarded === undefined) return;
    this.warnedForwarded = true;
    this.logger.warn(
      'a request carries X-Forwarded-For or Forwarded, but server.trust_proxy is false: behind a ' +
        'reverse proxy every client shares the rate limits of the proxy address; set ' +
        "server.trust_proxy to the proxy's address (this warning is shown once)",
    );
  }

  /** Logs the first refusal of a window per client, not every one: a flood must not flood the log. */
  private refused(name: RateLimitClass, limit: RateLimit, client: string, used: number): void {
    if (used === limit.max + 1)
      this.logger.warn(
        { class: name, client, max: limit.max, window_s: limit.window_s },
        'rate limit reached',
      );
  }
}

/** The client address express would give for this request, honouring `trust proxy`. */
function clientAddress(app: Express, req: IncomingMessage): string | undefined {
  // Upgrades never pass through express; a view with its request prototype computes `ip` alike.
  const view = Object.create(app.request, {
    headers: { value: req.headers },
    socket: { value: req.socket },
    connection: { value: req.socket },
  }) as Request;
  return view.ip;
}

/** Each app's limiters, so that the upgrade guard counts in the same windows as its middleware. */
const LIMITERS = new WeakMap<Express, RateLimiters>();

/**
 * The rate-limit middleware of `app` (config `server.rate_limits`): a request over its class's
 * limit gets 429 with the JSON error and Retry-After.
 */
export function rateLimits(app: Express, config: RateLimitsConfig, logger: Logger): RequestHandler {
  const limiters = new RateLimiters(config, logger, app.get('trust proxy') !== false);
  LIMITERS.set(app, limiters);
  return limiters.middleware;
}

/**
 * The upgrade guard that counts WebSocket upgrades as signaling, in the windows of `app`'s
 * middleware; the limiters' timers stop when `http` closes.
 */
export function upgradeRateLimit(app: Express, http: Server): UpgradeGuard {
  const limiters = LIMITERS.get(app);
  if (!limiters) return () => undefined;
  http.once('close', () => limiters.close());
  return limiters.guard(app);
}
