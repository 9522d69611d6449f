import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { IsOptional } from 'class-validator';
import { parseDocument } from 'yaml';
import { ConfigError, errorMessage } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import {
  IntegerIn,
  Mapping,
  OneOf,
  Text,
  TextList,
  EachMatching,
  Flag,
  isMapping,
  validateInto,
} from './validation.js';
import { parseStreamParams, type StreamParams } from './stream-params.js';
import type { PluginRegistry } from './registry.js';
import { parseAuthConfig, type AuthConfig } from './auth-config.js';
import { TlsConfig } from './tls-config.js';
import { parseRecordingsConfig, type RecordingsConfig } from './recordings-config.js';
import { parseRelaysConfig, type NamedRelayConfig } from './relays-config.js';
import {
  RateLimitsConfig,
  TrustProxySetting,
  parseRateLimits,
  type TrustProxy,
} from './rate-limit-config.js';

/** `server:` section. */
export class ServerConfig {
  /** Address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface, with `auth:`). */
  @Text()
  host = '127.0.0.1';

  /** TCP port (default 8001; 0 picks a free port). */
  @IntegerIn(0, 65535)
  port = 8001;

  /** Other origins whose pages may call the API and WebSockets, `https://host[:port]` (default []: same origin only; '*' any, without credentials). */
  @TextList()
  @EachMatching(
    /^(?:\*|null|https?:\/\/(?:[^\s/:?#@[\]\\]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?)$/i,
    "each entry must be '*', 'null' or an origin scheme://host[:port] without path or trailing slash (e.g. https://lab.example.org:8443)",
  )
  cors_origins: string[] = [];

  /** Host names the server answers to besides loopback and IP addresses, `name` or `.suffix` (default []: any when auth is on, else none; '*' any). */
  @TextList()
  @EachMatching(
    /^(?:\*|\.?[^\s/:?#@[\]\\*.][^\s/:?#@[\]\\*]*|\[[0-9A-Fa-f:.]+\])$/,
    "each entry must be '*', a host name (scope.example.org) or a suffix (.example.org), without scheme or port",
  )
  allowed_hosts: string[] = [];

  /** HTTPS and WSS on `port` with these PEM files, reloaded when they change (default: off, plain HTTP). */
  @IsOptional()
  tls?: TlsConfig;

  /** Requests per client address and window by class (default: signaling 600, control 1200, login 30 per 60 s; max 0 = off). */
  @IsOptional()
  rate_limits: RateLimitsConfig = new RateLimitsConfig();

  /** Reverse proxies whose X-Forwarded-For gives the client address (default false: the socket's address). */
  @TrustProxySetting()
  trust_proxy: TrustProxy = false;
}

/** `logging:` section. */
export class LoggingConfig {
  /** Log level (default info). */
  @OneOf(LOG_LEVELS)
  level: LogLevel = 'info';
}

/** One entry of `detectors:`. */
export class DetectorEntry {
  /** Detector type, served by a plugin (e.g. mock). */
  @Text()
  type!: string;

  /** Options of that type (default: the type's defaults). */
  @IsOptional()
  @Mapping()
  options: Record<string, unknown> = {};

  /** Milliseconds without a frame before the running detector is reported stalled (default 0: max(2000, 5 frame periods)). */
  @IntegerIn(0, 3_600_000)
  stall_timeout_ms = 0;
}

/** `compat:` section: other software's APIs served beside liveview's own. */
export class CompatConfig {
  /** ImSwitch's live-view API under /imswitch/api and its Socket.IO channel at /imswitch/socket.io/ (default true). */
  @Flag()
  imswitch = true;
}

/** Top-level keys of a config file. */
const TOP_LEVEL_KEYS = [
  'server',
  'auth',
  'logging',
  'recordings',
  'relays',
  'plugins',
  'detectors',
  'protocols',
  'compat',
] as const;

/** Detectors used when the config names none: one simulated camera. */
export const DEFAULT_DETECTORS: Record<string, { type: string; options: Record<string, unknown> }> =
  { Camera: { type: 'mock', options: {} } };

/** Detector names are used in URLs, so they are kept simple. */
const DETECTOR_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The first stage of a config: what can be checked before the plugins are loaded. */
export interface BaseConfig {
  /** `server:` with defaults. */
  server: ServerConfig;
  /** `auth:` checked (default none). */
  auth: AuthConfig;
  /** `logging:` with defaults. */
  logging: LoggingConfig;
  /** `recordings:` with defaults. */
  recordings: RecordingsConfig;
  /** `relays:` checked (default none). */
  relays: NamedRelayConfig[];
  /** `plugins:` (third-party module names or paths relative to `configDir`). */
  plugins: string[];
  /** `detectors:` as written (checked once plugins are known). */
  detectors: Record<string, unknown>;
  /** `protocols:` as written (checked once plugins are known). */
  protocols: Record<string, unknown>;
  /** `compat:` with defaults. */
  compat: CompatConfig;
  /** Folder of the config file (relative paths resolve against it). */
  configDir: string;
}

/** A detector as configured, with validated options. */
export interface DetectorConfig {
  /** Name (`detectors.<name>`). */
  name: string;
  /** Type. */
  type: string;
  /** Options validated by the type's provider. */
  options: unknown;
  /** Milliseconds without a frame before the detector is reported stalled (0: automatic). */
  stall_timeout_ms: number;
}

/** A config whose every section was checked against the plugins. */
export interface ResolvedConfig {
  /** `server:`. */
  server: ServerConfig;
  /** `auth:`. */
  auth: AuthConfig;
  /** `logging:`. */
  logging: LoggingConfig;
  /** `recordings:`. */
  recordings: RecordingsConfig;
  /** `relays:`, each naming a configured detector. */
  relays: NamedRelayConfig[];
  /** Third-party plugin specifiers. */
  plugins: string[];
  /** Detectors in config order; the first is the default detector. */
  detectors: DetectorConfig[];
  /** Default stream params of every known protocol. */
  protocols: Record<string, StreamParams>;
  /** `compat:`. */
  compat: CompatConfig;
  /** Folder of the config file. */
  configDir: string;
}

/** Parses YAML text; syntax errors become ConfigError with the line. */
export function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `${source}: YAML syntax error: ${e.message.split('\n')[0]}`),
    );
  }
  try {
    // Aliases are resolved here: an unknown one, or an alias bomb, throws from toJS.
    return doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new ConfigError([`${source}: YAML error: ${errorMessage(err)}`]);
  }
}

/** Reads a config file (a missing or unreadable file is a ConfigError). */
export async function readConfigFile(file: string): Promise<{ raw: unknown; configDir: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${file}: ${errorMessage(err)}`]);
  }
  return { raw: parseYaml(text, file), configDir: path.dirname(path.resolve(file)) };
}

/** Collects the ConfigError problems of several checks and throws them together. */
function collect<T>(problems: string[], check: () => T): T | undefined {
  try {
    return check();
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
    return undefined;
  }
}

/** Checks `server:`; the nested `tls:` and `rate_limits:` on their own, so that problems name `server.tls.<key>`. */
function parseServerConfig(raw: unknown, problems: string[]): ServerConfig {
  let tls: unknown;
  let rateLimits: unknown;
  let rest = raw;
  if (isMapping(raw)) ({ tls, rate_limits: rateLimits, ...rest } = raw);
  const server =
    collect(problems, () => validateInto(ServerConfig, rest, 'server')) ?? new ServerConfig();
  if (tls !== undefined && tls !== null)
    server.tls = collect(problems, () => validateInto(TlsConfig, tls, 'server.tls'));
  server.rate_limits = parseRateLimits(rateLimits, 'server.rate_limits', problems);
  return server;
}

/**
 * Checks the sections that do not depend on plugins. Problems go to `problems`; a broken section
 * is replaced by its defaults so that the later checks still run and every error is reported at
 * once.
 */
export function parseBaseConfig(raw: unknown, configDir: string, problems: string[]): BaseConfig {
  if (!isMapping(raw)) {
    problems.push('(top level): must be a mapping');
    raw = {};
  }
  const top = raw as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      problems.push(`${key}: unknown key (known keys: ${TOP_LEVEL_KEYS.join(', ')})`);
    }
  }
  const server = parseServerConfig(top.server, problems);
  const auth = parseAuthConfig(top.auth, configDir, problems);
  const logging =
    collect(problems, () => validateInto(LoggingConfig, top.logging, 'logging')) ??
    new LoggingConfig();
  const recordings = parseRecordingsConfig(top.recordings, problems);
  const relays = parseRelaysConfig(top.relays, problems);
  let plugins = top.plugins ?? [];
  if (!Array.isArray(plugins) || !plugins.every((p) => typeof p === 'string' && p.length > 0)) {
    problems.push('plugins: must be a list of npm package names or paths');
    plugins = [];
  }
  let detectors = top.detectors === undefined ? DEFAULT_DETECTORS : top.detectors;
  if (!isMapping(detectors)) {
    problems.push('detectors: must be a mapping of names to detectors');
    detectors = {};
  } else if (Object.keys(detectors).length === 0) {
    problems.push('detectors: must name at least one detector');
  }
  let protocols = top.protocols ?? {};
  if (!isMapping(protocols)) {
    problems.push('protocols: must be a mapping of protocol names');
    protocols = {};
  }
  return {
    server,
    auth,
    logging,
    recordings,
    relays,
    plugins: plugins as string[],
    detectors: detectors as Record<string, unknown>,
    protocols: protocols as Record<string, unknown>,
    compat:
      collect(problems, () => validateInto(CompatConfig, top.compat, 'compat')) ??
      new CompatConfig(),
    configDir,
  };
}

/** Checks `detectors:` and `protocols:` against what the plugins provide; problems go to `problems`. */
export function resolveConfig(
  base: BaseConfig,
  registry: PluginRegistry,
  problems: string[],
): ResolvedConfig {
  const detectors: DetectorConfig[] = [];
  for (const [name, rawEntry] of Object.entries(base.detectors)) {
    const at = `detectors.${name}`;
    if (!DETECTOR_NAME.test(name)) {
      problems.push(`${at}: a detector name may only contain letters, digits, '_', '-' and '.'`);
      continue;
    }
    const entry = collect(problems, () => validateInto(DetectorEntry, rawEntry, at));
    if (!entry) continue;
    const provider = registry.findProvider(entry.type);
    if (!provider) {
      problems.push(`${at}.type: ${registry.unknownTypeMessage(entry.type)}`);
      continue;
    }
    const options = collect(problems, () => {
      try {
        return provider.parseOptions(entry.options, `${at}.options`);
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        // A plugin that throws a plain Error still gets its message placed at the key path.
        throw new ConfigError([`${at}.options: ${errorMessage(err)}`]);
      }
    });
    if (options !== undefined)
      detectors.push({ name, type: entry.type, options, stall_timeout_ms: entry.stall_timeout_ms });
  }
  const protocols: Record<string, StreamParams> = {};
  for (const name of Object.keys(base.protocols)) {
    if (!registry.findProtocol(name))
      problems.push(`protocols.${name}: ${registry.unknownProtocolMessage(name)}`);
  }
  for (const protocol of registry.allProtocols()) {
    const params = collect(problems, () =>
      parseStreamParams(
        protocol.paramsClass,
        base.protocols[protocol.name],
        `protocols.${protocol.name}`,
      ),
    );
    if (params) protocols[protocol.name] = params;
  }
  for (const { name, config } of base.relays) {
    if (
      !detectors.some((d) => d.name === config.detector) &&
      !problems.some((p) => p.startsWith(`detectors.${config.detector}`))
    )
      problems.push(
        `relays.${name}.detector: unknown detector '${config.detector}' (detectors: ${detectors.map((d) => d.name).join(', ')})`,
      );
    if (!registry.findProtocol('webrtc'))
      problems.push(
        `relays.${name}: relays feed the webrtc protocol's streams, which is not loaded`,
      );
  }
  return {
    server: base.server,
    auth: base.auth,
    logging: base.logging,
    recordings: base.recordings,
    relays: base.relays,
    plugins: base.plugins,
    detectors,
    protocols,
    compat: base.compat,
    configDir: base.configDir,
  };
}
