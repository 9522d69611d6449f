import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { parseYaml } from '../../src/core/config.js';
import { loadConfig } from '../../src/core/container.js';
import { ConfigError } from '../../src/core/errors.js';
import { FIXTURES_DIR } from '../helpers/server.js';

const DEFAULT_YAML = fileURLToPath(new URL('../../../config/default.yaml', import.meta.url));
const silent = (): Logger => createLogger('silent');

async function load(yaml: string): Promise<Awaited<ReturnType<typeof loadConfig>>> {
  return loadConfig(parseYaml(yaml, 'test.yaml'), FIXTURES_DIR, {}, silent);
}

async function problemsOf(yaml: string): Promise<string[]> {
  try {
    await load(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** The config as plain JSON (class instances and functions removed) for comparisons. */
function plain(config: unknown): unknown {
  return JSON.parse(JSON.stringify(config));
}

describe('config', () => {
  it('config/default.yaml equals an empty file', async () => {
    const shipped = await load(await readFile(DEFAULT_YAML, 'utf8'));
    const empty = await load('');
    expect(plain(shipped.config)).to.deep.equal(plain(empty.config));
  });

  it('the code defaults are what the docs say', async () => {
    const { config } = await load('');
    expect(config.server).to.deep.include({
      host: '127.0.0.1',
      port: 8001,
      cors_origins: [],
      allowed_hosts: [],
    });
    expect(config.auth.enabled, 'auth: none by default').to.equal(false);
    expect(config.logging.level).to.equal('info');
    expect(config.detectors.map((d) => [d.name, d.type])).to.deep.equal([['Camera', 'mock']]);
    expect(config.protocols.mjpeg).to.include({ throttle_ms: 50, jpeg_quality: 80 });
    expect(config.compat.imswitch, "ImSwitch's API is served by default").to.equal(true);
  });

  it('keeps the order of detectors (the first is the default)', async () => {
    const { config } = await load(`
detectors:
  B: { type: mock }
  A: { type: mock }
`);
    expect(config.detectors.map((d) => d.name)).to.deep.equal(['B', 'A']);
  });

  const cases: [string, string, string[]][] = [
    [
      'width out of range',
      'detectors: { Camera: { type: mock, options: { width: 0 } } }',
      ['detectors.Camera.options.width: must be an integer between 1 and 16384'],
    ],
    [
      'width not an integer',
      'detectors: { Camera: { type: mock, options: { width: 12.5 } } }',
      ['detectors.Camera.options.width: must be an integer between 1 and 16384'],
    ],
    [
      'unknown top-level key',
      'servr: {}',
      [
        'servr: unknown key (known keys: server, auth, logging, recordings, relays, plugins, detectors, protocols, compat)',
      ],
    ],
    [
      'compat.imswitch not a flag',
      'compat: { imswitch: yes please }',
      ['compat.imswitch: must be true or false'],
    ],
    [
      'unknown compat key',
      'compat: { micromanager: true }',
      ['compat.micromanager: unknown key (known keys: imswitch)'],
    ],
    [
      'unknown server key',
      'server: { prot: 1 }',
      [
        'server.prot: unknown key (known keys: host, port, cors_origins, allowed_hosts, tls, rate_limits, trust_proxy)',
      ],
    ],
    [
      'port out of range',
      'server: { port: 70000 }',
      ['server.port: must be an integer between 0 and 65535'],
    ],
    [
      'port as text',
      'server: { port: "80a" }',
      ['server.port: must be an integer between 0 and 65535'],
    ],
    ['empty host', "server: { host: '' }", ['server.host: must be a non-empty string']],
    [
      'cors not a list',
      'server: { cors_origins: 5 }',
      ['server.cors_origins: must be a list of strings'],
    ],
    [
      'bad log level',
      'logging: { level: loud }',
      ['logging.level: must be one of: fatal, error, warn, info, debug, trace, silent'],
    ],
    ['server not a mapping', 'server: 5', ['server: must be a mapping']],
    [
      'plugins not a list',
      'plugins: abc',
      ['plugins: must be a list of npm package names or paths'],
    ],
    ['detectors empty', 'detectors: {}', ['detectors: must name at least one detector']],
    [
      'unknown detector type',
      'detectors: { Camera: { type: gige } }',
      ["detectors.Camera.type: unknown detector type 'gige' (known types: genicam, mock, v4l2)"],
    ],
    [
      'detector without type',
      'detectors: { Camera: {} }',
      ['detectors.Camera.type: must be a non-empty string'],
    ],
    [
      'unknown detector key',
      'detectors: { Camera: { type: mock, option: {} } }',
      ['detectors.Camera.option: unknown key (known keys: type, options, stall_timeout_ms)'],
    ],
    [
      'bad detector name',
      "detectors: { 'my cam': { type: mock } }",
      ["detectors.my cam: a detector name may only contain letters, digits, '_', '-' and '.'"],
    ],
    [
      'unknown protocol',
      'protocols: { rtsp: {} }',
      ["protocols.rtsp: unknown protocol 'rtsp' (known protocols: binary, mjpeg, webrtc)"],
    ],
    [
      'bad jpeg quality',
      'protocols: { mjpeg: { jpeg_quality: 0 } }',
      ['protocols.mjpeg.jpeg_quality: must be an integer between 1 and 100'],
    ],
    [
      'unknown normalization',
      'protocols: { mjpeg: { normalization: log } }',
      ['protocols.mjpeg.normalization: must be one of: minmax, fixed, percentile, shift'],
    ],
    [
      'fixed window reversed',
      'protocols: { mjpeg: { normalization: fixed, norm_min: 10, norm_max: 5 } }',
      ['protocols.mjpeg.norm_max: must be greater than norm_min'],
    ],
    [
      'percentiles reversed',
      'protocols: { mjpeg: { normalization: percentile, clip_low_percent: 50, clip_high_percent: 40 } }',
      ['protocols.mjpeg.clip_high_percent: must be greater than clip_low_percent'],
    ],
    [
      'several problems at once',
      'server: { port: -1 }\nlogging: { level: x }',
      [
        'server.port: must be an integer between 0 and 65535',
        'logging.level: must be one of: fatal, error, warn, info, debug, trace, silent',
      ],
    ],
    [
      'recordings limit negative',
      'recordings: { max_duration_s: -1 }',
      ['recordings.max_duration_s: must be an integer between 0 and 31536000'],
    ],
    [
      'recordings retention wrong type',
      'recordings: { retention: { max_age_days: soon } }',
      ['recordings.retention.max_age_days: must be an integer between 0 and 36500'],
    ],
    [
      'recordings name pattern without a distinct part',
      "recordings: { name_pattern: 'always-the-same' }",
      [
        'recordings.name_pattern: must contain {time}, {name} or {detector} so that recordings get distinct names',
      ],
    ],
    [
      'recordings unknown key',
      'recordings: { folder: /data }',
      [
        'recordings.folder: unknown key (known keys: dir, name_pattern, max_duration_s, max_bytes, queue_frames, retention)',
      ],
    ],
    [
      'plugin folder missing',
      'plugins: [./plugins/nothing-here]',
      [
        `plugins[0]: cannot load plugin './plugins/nothing-here': no such file or folder: ${FIXTURES_DIR}plugins/nothing-here`,
      ],
    ],
    [
      'plugin that throws while loading',
      'plugins: [./plugins/broken-plugin]',
      [
        "plugins[0]: cannot load plugin './plugins/broken-plugin': libacme.so.1: cannot open shared object file",
      ],
    ],
    [
      'plugin of another API version',
      'plugins: [./plugins/old-api-plugin]',
      [
        "plugins[0]: cannot load plugin './plugins/old-api-plugin': plugin 'old' was written for plugin API version 0, this liveview implements versions 1 to 2 (import PLUGIN_API_VERSION from 'liveview' and declare apiVersion: PLUGIN_API_VERSION)",
      ],
    ],
    [
      'npm plugin not installed',
      'plugins: [liveview-plugin-does-not-exist]',
      [
        "plugins[0]: cannot load plugin 'liveview-plugin-does-not-exist': Cannot find package 'liveview-plugin-does-not-exist' imported from ",
      ],
    ],
  ];
  for (const [name, yaml, expected] of cases) {
    it(`rejects ${name} with the key path`, async () => {
      const problems = await problemsOf(yaml);
      if (name === 'npm plugin not installed') {
        expect(problems).to.have.length(1);
        expect(problems[0].startsWith(expected[0])).to.equal(true, problems[0]);
      } else {
        expect(problems).to.deep.equal(expected);
      }
    });
  }

  it('reports the errors of every section at once (server, plugins, detectors, protocols)', async () => {
    const problems = await problemsOf(`
server: { port: 70000 }
logging: { level: loud }
plugins: [./plugins/does-not-exist]
detectors:
  Camera: { type: mock, options: { width: 0 } }
  Other: { type: nope }
protocols:
  mjpeg: { jpeg_quality: 101 }
`);
    expect(problems).to.have.length(6);
    expect(problems[0]).to.match(/^server\.port: /);
    expect(problems[1]).to.match(/^logging\.level: /);
    expect(problems[2]).to.match(/^plugins\[0\]: cannot load plugin '\.\/plugins\/does-not-exist'/);
    expect(problems.slice(3)).to.deep.equal([
      'detectors.Camera.options.width: must be an integer between 1 and 16384',
      "detectors.Other.type: unknown detector type 'nope' (known types: genicam, mock, v4l2)",
      'protocols.mjpeg.jpeg_quality: must be an integer between 1 and 100',
    ]);
  });

  it('rejects YAML syntax errors with the line', async () => {
    expect(() => parseYaml('server:\n  port: [1,\n', 'bad.yaml')).to.throw(
      ConfigError,
      /^bad\.yaml: YAML syntax error: .*line/,
    );
  });

  it('rejects duplicate keys', async () => {
    expect(() => parseYaml('server: {}\nserver: {}\n', 'dup.yaml')).to.throw(
      ConfigError,
      /dup\.yaml/,
    );
  });

  it('third-party plugins add their detector types to the error listing', async () => {
    const problems = await problemsOf(
      'plugins: [./plugins/ramp-detector]\ndetectors: { X: { type: nope } }',
    );
    expect(problems).to.deep.equal([
      "detectors.X.type: unknown detector type 'nope' (known types: genicam, mock, ramp, v4l2)",
    ]);
  });

  it('a third-party provider validates its own options with the key path', async () => {
    const problems = await problemsOf(
      'plugins: [./plugins/ramp-detector]\ndetectors: { X: { type: ramp, options: { fps: -1 } } }',
    );
    expect(problems).to.deep.equal(['detectors.X.options.fps: must be a positive number']);
  });
});
