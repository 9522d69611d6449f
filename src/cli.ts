#!/usr/bin/env node
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startServer, type LiveViewServer } from './api/server.js';
import { ConfigError, errorMessage } from './core/errors.js';

const USAGE = `Usage: liveview [options]
       liveview devices     list the Linux video devices (V4L2) with formats, sizes, rates
       liveview discover [--interface <name>]... [--address <ip>]... [--timeout <ms>]
                            list the GigE Vision cameras that answer (default: every interface)

Streams cameras (detectors) to browsers and programs over MJPEG, WebRTC and a binary protocol.

Options:
  -c, --config <file>  YAML config file (default: built-in defaults, one simulated camera)
  -p, --port <port>    port to listen on (overrides server.port; default 8001)
      --host <host>    address to listen on (overrides server.host; default 0.0.0.0)
  -h, --help           show this help
  -v, --version        show the version
`;

/** Milliseconds a graceful stop may take before the process exits anyway. */
const STOP_TIMEOUT_MS = 4500;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function fail(message: string): never {
  process.stderr.write(`liveview: ${message}\n`);
  process.exit(1);
}

/** `liveview devices`: what a `type: v4l2` detector can use on this machine. */
async function listVideoDevices(): Promise<void> {
  const { listDevices } = await import('./plugins/v4l2/devices.js');
  let devices;
  try {
    devices = listDevices();
  } catch (err) {
    fail(`cannot list video devices: ${errorMessage(err)}`);
  }
  if (devices.length === 0) process.stdout.write('no video devices (/dev/video*)\n');
  for (const d of devices) {
    if (d.error) {
      process.stdout.write(`${d.path}: ${d.error}\n`);
      continue;
    }
    process.stdout.write(
      `${d.path}: ${d.capabilities!.card} (${d.capabilities!.driver}, ${d.capabilities!.busInfo})\n`,
    );
    for (const f of d.formats ?? []) {
      const sizes = f.sizes
        .map((s) => `${s.width}x${s.height}${s.fps.length > 0 ? `@${s.fps.join('/')}` : ''}`)
        .join(' ');
      process.stdout.write(`  ${f.fourcc.trim().padEnd(4)} ${f.description}: ${sizes}\n`);
    }
  }
}

/** `liveview discover`: the GigE Vision cameras a `type: genicam` detector can use. */
async function discoverCameras(argv: string[]): Promise<void> {
  const { discoverDevices } = await import('./plugins/genicam/discovery.js');
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        interface: { type: 'string', multiple: true, short: 'i' },
        address: { type: 'string', multiple: true, short: 'a' },
        timeout: { type: 'string', short: 't' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(`${errorMessage(err)}\n\n${USAGE}`);
  }
  const timeoutMs = values.timeout === undefined ? 1000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 60000)
    fail(`--timeout: must be milliseconds between 1 and 60000, got '${values.timeout}'`);
  let devices;
  try {
    devices = await discoverDevices({
      // Addresses alone mean "ask these": no broadcast unless interfaces are named too.
      interfaces: values.interface ?? (values.address ? [] : undefined),
      addresses: values.address,
      timeoutMs,
    });
  } catch (err) {
    fail(`cannot discover cameras: ${errorMessage(err)}`);
  }
  if (devices.length === 0) process.stdout.write('no GigE Vision camera answered\n');
  for (const d of devices) {
    const name = d.userName ? ` name '${d.userName}'` : '';
    process.stdout.write(
      `${d.ip}: ${d.vendor} ${d.model} serial ${d.serial}${name} mac ${d.mac} version ${d.version}\n`,
    );
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'devices') {
    await listVideoDevices();
    return;
  }
  if (process.argv[2] === 'discover') {
    await discoverCameras(process.argv.slice(3));
    return;
  }
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    fail(`${errorMessage(err)}\n\n${USAGE}`);
  }
  const { values } = args;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) {
      fail(`--port: must be an integer between 0 and 65535, got '${values.port}'`);
    }
  }
  let server: LiveViewServer;
  try {
    server = await startServer({
      ...(values.config ? { configFile: values.config } : { configText: '' }),
      port,
      host: values.host,
    });
  } catch (err) {
    if (err instanceof ConfigError)
      fail(`invalid configuration:\n${err.problems.map((p) => `  ${p}`).join('\n')}`);
    fail(errorMessage(err));
  }
  const stop = (signal: string): void => {
    server.logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      server.logger.error('graceful stop took too long, exiting');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    timer.unref();
    server.stop().then(
      () => process.exit(0),
      (err) => {
        server.logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

void main();
