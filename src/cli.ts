#!/usr/bin/env node
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startServer, type LiveViewServer } from './api/server.js';
import { ConfigError, errorMessage } from './core/errors.js';
import { devicesCommand, discoverCommand } from './device-commands.js';

const USAGE = `Usage: liveview [options]
       liveview devices [--type <type>]... [--config <file>] [--timeout <ms>]
                            list the devices each detector type finds here (V4L2 devices with
                            formats, sizes, rates; GigE Vision cameras; plugins' own types)
       liveview discover [--interface <name>]... [--address <ip>]... [--timeout <ms>]
                            list the GigE Vision cameras that answer (default: every interface)

Streams cameras (detectors) to browsers and programs over MJPEG, WebRTC and a binary protocol.

Options:
  -c, --config <file>  YAML config file (default: built-in defaults, one simulated camera)
  -p, --port <port>    port to listen on (overrides server.port; default 8001)
      --host <host>    address to listen on (overrides server.host; default 127.0.0.1)
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

async function main(): Promise<void> {
  const io = { out: (text: string) => process.stdout.write(text), fail };
  if (process.argv[2] === 'devices') {
    await devicesCommand(process.argv.slice(3), USAGE, io);
    return;
  }
  if (process.argv[2] === 'discover') {
    await discoverCommand(process.argv.slice(3), USAGE, io);
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
