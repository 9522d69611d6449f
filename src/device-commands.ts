import { parseArgs } from 'node:util';
import { loadConfig } from './core/container.js';
import { parseYaml, readConfigFile } from './core/config.js';
import { ConfigError, errorMessage } from './core/errors.js';
import type { PluginRegistry } from './core/registry.js';

/** What `liveview devices` and `liveview discover` print to and fail with. */
export interface CommandIo {
  /** Writes to stdout. */
  out(text: string): void;
  /** Reports an error and exits non-zero. */
  fail(message: string): never;
}

/** How long the commands wait for devices to answer by default (ms). */
const DEFAULT_TIMEOUT_MS = 1000;

/** The plugins of a config file (built-in only without one), without creating any detector. */
async function registryOf(configFile: string | undefined, io: CommandIo): Promise<PluginRegistry> {
  try {
    const { raw, configDir } = configFile
      ? await readConfigFile(configFile)
      : { raw: parseYaml('', '(defaults)'), configDir: process.cwd() };
    return (await loadConfig(raw, configDir, { logLevel: 'silent' })).registry;
  } catch (err) {
    if (err instanceof ConfigError)
      io.fail(`invalid configuration:\n${err.problems.map((p) => `  ${p}`).join('\n')}`);
    io.fail(errorMessage(err));
  }
}

function parseTimeout(value: string | undefined, io: CommandIo): number {
  const timeoutMs = value === undefined ? DEFAULT_TIMEOUT_MS : Number(value);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 60000)
    io.fail(`--timeout: must be milliseconds between 1 and 60000, got '${value}'`);
  return timeoutMs;
}

/**
 * Asks one provider for its devices, with options built from the command line the way the
 * config would give them, and prints each with the provider's own format.
 */
async function printDiscovered(
  registry: PluginRegistry,
  type: string,
  rawOptions: unknown[],
  timeoutMs: number,
  io: Pick<CommandIo, 'out'>,
): Promise<number> {
  const provider = registry.findProvider(type);
  if (!provider?.discover) return 0;
  let devices: Record<string, unknown>[];
  try {
    const options = rawOptions.map((raw, i) => provider.parseOptions(raw, `${type}[${i}]`));
    devices = await provider.discover(options, timeoutMs);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems.join('; ') : errorMessage(err);
    throw new Error(`cannot list ${type} devices: ${problems}`, { cause: err });
  }
  for (const d of devices) io.out(`${provider.formatDevice?.(d) ?? JSON.stringify(d)}\n`);
  return devices.length;
}

/** Every option of the two commands; each takes `config`, `timeout` and its own. */
const OPTIONS = {
  config: { type: 'string', short: 'c' },
  timeout: { type: 'string', short: 't' },
  type: { type: 'string', multiple: true },
  interface: { type: 'string', multiple: true, short: 'i' },
  address: { type: 'string', multiple: true, short: 'a' },
} as const;

/** Parses a command's arguments (only `config`, `timeout` and `own` allowed), its timeout and its plugins. */
async function setUp(argv: string[], own: (keyof typeof OPTIONS)[], usage: string, io: CommandIo) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (err) {
    io.fail(`${errorMessage(err)}\n\n${usage}`);
  }
  for (const key of Object.keys(values)) {
    if (!['config', 'timeout', ...own].includes(key))
      io.fail(`unknown option '--${key}'\n\n${usage}`);
  }
  const timeoutMs = parseTimeout(values.timeout, io);
  const registry = await registryOf(values.config, io);
  return { values, timeoutMs, registry };
}

/** `liveview devices [--config f] [--type t]... [--timeout ms]`: what every detector type can use here. */
export async function devicesCommand(argv: string[], usage: string, io: CommandIo): Promise<void> {
  const { values, timeoutMs, registry } = await setUp(argv, ['type'], usage, io);
  const types = values.type ?? registry.detectorTypes;
  for (const type of types) {
    if (!registry.findProvider(type)) io.fail(registry.unknownTypeMessage(type));
  }
  for (const type of types) {
    if (!registry.findProvider(type)?.discover) continue;
    io.out(`# ${type}\n`);
    try {
      const found = await printDiscovered(registry, type, [{}], timeoutMs, io);
      if (found === 0) io.out('no devices found\n');
    } catch (err) {
      // One type that cannot look (no permission, no network) does not hide the others.
      io.out(`${errorMessage(err)}\n`);
    }
  }
}

/** `liveview discover`: the GigE Vision cameras a `type: genicam` detector can use. */
export async function discoverCommand(argv: string[], usage: string, io: CommandIo): Promise<void> {
  const { values, timeoutMs, registry } = await setUp(argv, ['interface', 'address'], usage, io);
  // As in the config: each address is asked directly; broadcast only when interfaces are named
  // or no address is given (then on every interface).
  const options: unknown[] = (values.address ?? []).map((address) => ({ address }));
  if (values.interface || options.length === 0)
    options.push({ interfaces: values.interface ?? [] });
  let found = 0;
  try {
    found = await printDiscovered(registry, 'genicam', options, timeoutMs, io);
  } catch (err) {
    io.fail(errorMessage(err));
  }
  if (found === 0) io.out('no GigE Vision camera answered\n');
}
