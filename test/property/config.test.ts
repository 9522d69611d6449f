import { expect } from 'chai';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { DEFAULT_DETECTORS, parseBaseConfig, parseYaml } from '../../src/core/config.js';
import { loadConfig } from '../../src/core/container.js';
import { ConfigError } from '../../src/core/errors.js';
import { LOG_LEVELS, createLogger, type Logger } from '../../src/core/logger.js';
import { isMapping } from '../../src/core/validation.js';
import { FIXTURES_DIR } from '../helpers/server.js';
import {
  PARAMS_FIELDS,
  PROTO_KEYS,
  asyncOutcomeOf,
  deepList,
  deepMapping,
  describeThrown,
  nastyKey,
  nastyMapping,
  nastyScalar,
  nastyString,
  nastyValue,
  objectOf,
  oneFieldWrong,
  outcomeOf,
  paramsArbitrary,
  runs,
  someOf,
} from '../helpers/arbitraries.js';

const TOP_LEVEL = ['server', 'logging', 'plugins', 'detectors', 'protocols'];
const PROTOCOLS = ['mjpeg', 'binary', 'webrtc'] as const;
const SOURCE = 'test.yaml';
const silent = (): Logger => createLogger('silent');

// ---- generators -------------------------------------------------------------------------------

const text = fc.string({ minLength: 1, maxLength: 10 });

const serverFields = {
  host: text,
  port: fc.integer({ min: 0, max: 65535 }),
  cors_origins: fc.array(
    fc.oneof(
      fc.constantFrom('*', 'null'),
      fc
        .tuple(
          fc.constantFrom('http', 'https'),
          fc.domain(),
          fc.option(fc.integer({ min: 1, max: 65535 })),
        )
        .map(([scheme, host, port]) => `${scheme}://${host}${port === null ? '' : `:${port}`}`),
    ),
    { maxLength: 2 },
  ),
  allowed_hosts: fc.array(
    fc.oneof(
      fc.constant('*'),
      fc.domain(),
      fc.domain().map((d) => `.${d}`),
    ),
    { maxLength: 2 },
  ),
};
const loggingFields = { level: fc.constantFrom(...LOG_LEVELS) };
const mockFields = {
  width: fc.integer({ min: 64, max: 1024 }),
  height: fc.integer({ min: 48, max: 768 }),
  dtype: fc.constantFrom('uint8', 'uint16', 'float32'),
  bit_depth: fc.integer({ min: 1, max: 8 }),
  channels: fc.constantFrom(1, 3),
  fps: fc.double({ min: 0.1, max: 1000, noNaN: true }),
  pattern: fc.constantFrom('features', 'gradient', 'noise'),
  noise: fc.double({ min: 0, max: 100, noNaN: true }),
  exposure_ms: fc.double({ min: 0.01, max: 10000, noNaN: true }),
  gain: fc.double({ min: 0.1, max: 64, noNaN: true }),
  pixel_code: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  fault: fc.constantFrom('none', 'stall', 'throw', 'fail_start'),
  fault_after_frames: fc.integer({ min: 0, max: 1e9 }),
};

/** A section: valid-looking, valid-looking with one field wrong, or anything. */
function section(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: someOf(fields) },
    {
      weight: 3,
      arbitrary: oneFieldWrong(someOf(fields), Object.keys(fields)).map((w) => w.value),
    },
    oneFieldWrong(someOf(fields), [...PROTO_KEYS, 'unknown_key']).map((w) => w.value),
    nastyValue,
  );
}

/** `plugins:` values that never name a module to import (only wrong shapes, or nothing). */
const pluginsSection: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant([]),
  nastyScalar,
  nastyMapping,
  fc.array(
    fc.oneof(
      fc.constant(''),
      nastyScalar.filter((v) => typeof v !== 'string'),
    ),
    {
      minLength: 1,
      maxLength: 3,
    },
  ),
);

const detectorName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('Camera', 'Cam_2', 'a.b-c', 'x') },
  nastyKey,
);
const detectorEntry: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: someOf({
      type: fc.oneof(
        { weight: 4, arbitrary: fc.constant('mock') },
        fc.constantFrom('v4l2', 'genicam', 'nope', ''),
        nastyScalar,
      ),
      options: section(mockFields),
    }),
  },
  nastyValue,
);
const detectorsSection: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(fc.tuple(detectorName, detectorEntry), { maxLength: 3 }).map(objectOf),
  },
  nastyValue,
);

const protocolEntry = fc
  .oneof(
    { weight: 4, arbitrary: fc.constantFrom(...PROTOCOLS) },
    fc.constantFrom('rtsp', 'MJPEG'),
    nastyKey,
  )
  .chain((name) =>
    (PROTOCOLS as readonly string[]).includes(name)
      ? paramsArbitrary(name as (typeof PROTOCOLS)[number]).map((p) => [name, p] as const)
      : nastyValue.map((p) => [name, p] as const),
  );
const protocolsSection: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(protocolEntry, { maxLength: 3 }).map(objectOf) },
  nastyValue,
);

/** A whole config: known sections (each maybe wrong) plus maybe unknown top-level keys; or anything. */
const configArbitrary: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.record(
          {
            server: section(serverFields),
            logging: section(loggingFields),
            plugins: pluginsSection,
            detectors: detectorsSection,
            protocols: protocolsSection,
          },
          { requiredKeys: [] },
        ),
        fc.array(fc.tuple(nastyKey, nastyValue), { maxLength: 2 }),
      )
      .map(([known, extra]) => objectOf([...Object.entries(known), ...extra])),
  },
  nastyValue,
);

// ---- checks -----------------------------------------------------------------------------------

function keysOf(v: unknown): string[] {
  return isMapping(v) ? Object.keys(v) : [];
}

/** True if `problem` starts with `prefix` followed by `.`, `:` or `[` (a key path boundary). */
function startsWithPath(problem: string, prefix: string): boolean {
  return problem.startsWith(prefix) && /^[.:[]/.test(problem.slice(prefix.length));
}

/** Every problem starts with a key path that exists in the input (or a schema key under it). */
function expectKeyPaths(problems: string[], raw: unknown, source?: string): void {
  expect(problems, 'a ConfigError without problems').to.have.length.above(0);
  const top = isMapping(raw) ? raw : {};
  const detectors = top.detectors === undefined ? DEFAULT_DETECTORS : top.detectors;
  for (const p of problems) {
    expect(p, 'problem').to.be.a('string');
    const ok =
      p.startsWith('(top level): ') ||
      (source !== undefined && p.startsWith(`${source}: `)) ||
      keysOf(raw).some((k) => p.startsWith(`${k}: `)) ||
      (p.startsWith('detectors.')
        ? keysOf(detectors).some((n) => startsWithPath(p, `detectors.${n}`))
        : p.startsWith('protocols.')
          ? [...keysOf(top.protocols), ...PROTOCOLS].some((n) =>
              startsWithPath(p, `protocols.${n}`),
            )
          : [...TOP_LEVEL, ...keysOf(raw)].some((k) => startsWithPath(p, k)));
    expect(
      ok,
      `problem does not start with a key path of the input: ${JSON.stringify(p)}`,
    ).to.equal(true);
  }
}

/** The contract of loadConfig: a fully checked config, or a ConfigError whose problems name key paths. */
async function checkLoad(raw: unknown, source?: string): Promise<void> {
  const outcome = await asyncOutcomeOf(() => loadConfig(raw, FIXTURES_DIR, {}, silent));
  if (!outcome.ok) {
    expect(outcome.error, describeThrown(outcome.error)).to.be.instanceOf(ConfigError);
    expectKeyPaths((outcome.error as ConfigError).problems, raw, source);
    return;
  }
  const { config } = outcome.value;
  const top = raw as Record<string, unknown>;
  const detectors = top.detectors === undefined ? DEFAULT_DETECTORS : top.detectors;
  expect(config.detectors.map((d) => d.name)).to.deep.equal(keysOf(detectors));
  for (const d of config.detectors) expect(['mock', 'v4l2', 'genicam']).to.include(d.type);
  expect(Object.keys(config.protocols).sort()).to.deep.equal([...PROTOCOLS].sort());
  for (const params of Object.values(config.protocols)) {
    expect(validateSync(params, { forbidUnknownValues: false })).to.deep.equal([]);
  }
  for (const key of Object.keys(top)) expect(TOP_LEVEL).to.include(key);
  expect(config.server.port).to.be.within(0, 65535);
  expect(LOG_LEVELS).to.include(config.logging.level);
}

/** YAML-ish text: lines of keys, scalars, flow collections, tags, block scalars (no aliases). */
const yamlText: fc.Arbitrary<string> = fc.oneof(
  configArbitrary.map((v) => {
    const r = outcomeOf(() => stringify(v));
    return r.ok ? r.value : '';
  }),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('', '  ', '    ', '- ', '  - '),
        fc.oneof(fc.constantFrom(...TOP_LEVEL, 'Camera', 'type', 'options', 'width'), nastyKey),
        fc.constantFrom(
          ': ',
          ':',
          ' : ',
          ': &a ',
          ': !!str ',
          ': !foo ',
          ': |\n  ',
          ': >-\n  ',
          '',
        ),
        fc.oneof(
          fc.constantFrom(
            'mock',
            '{',
            '}',
            '[',
            ']',
            '{}',
            '[]',
            '{a: 1, a: 2}',
            '"\\x"',
            "'",
            '<<',
            '? x',
            '%YAML 1.2',
            '---',
            '...',
            '!!binary aGk=',
            '!!timestamp 2001-12-14',
            '0x1F',
            '.inf',
            '.nan',
            '1e400',
            '~',
          ),
          nastyString,
        ),
        fc.constantFrom('\n', '\r\n', '\r'),
      ),
      { maxLength: 8 },
    )
    .map((ls) => ls.map((l) => l.join('')).join('')),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
);

// ---- properties -------------------------------------------------------------------------------

describe('property: config loader (parseYaml, parseBaseConfig, loadConfig)', function () {
  this.timeout(40_000);

  it('parseBaseConfig, any value: a base config with its problems listed, each starting with a key path; nothing thrown', () => {
    fc.assert(
      fc.property(configArbitrary, (raw) => {
        const problems: string[] = [];
        const outcome = outcomeOf(() => parseBaseConfig(raw, FIXTURES_DIR, problems));
        if (!outcome.ok) {
          // A ConfigError is a clean answer too; anything else escaped.
          expect(outcome.error, describeThrown(outcome.error)).to.be.instanceOf(ConfigError);
          expectKeyPaths((outcome.error as ConfigError).problems, raw);
          return;
        }
        if (problems.length > 0) expectKeyPaths(problems, raw);
        // Broken sections are replaced by their defaults so that later stages still run.
        expect(outcome.value.server.port).to.be.within(0, 65535);
        expect(LOG_LEVELS).to.include(outcome.value.logging.level);
        expect(outcome.value.plugins).to.be.an('array');
        expect(isMapping(outcome.value.detectors)).to.equal(true);
        expect(isMapping(outcome.value.protocols)).to.equal(true);
      }),
      runs(400),
    );
  });

  it('loadConfig, any YAML-ish object: a valid config, or a ConfigError whose every problem starts with a key path', async () => {
    await fc.assert(
      fc.asyncProperty(configArbitrary, (raw) => checkLoad(raw)),
      runs(300),
    );
  });

  it('parseYaml + loadConfig, YAML-ish text (no aliases): a valid config, or a ConfigError naming the file or a key path', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Aliases (`*name`) are the subject of the regression test below.
        yamlText.filter((t) => !t.includes('*')),
        async (t) => {
          const parsed = outcomeOf(() => parseYaml(t, SOURCE));
          if (!parsed.ok) {
            expect(parsed.error, describeThrown(parsed.error)).to.be.instanceOf(ConfigError);
            for (const p of (parsed.error as ConfigError).problems) {
              expect(p.startsWith(`${SOURCE}: `), p).to.equal(true);
            }
            return;
          }
          await checkLoad(parsed.value, SOURCE);
        },
      ),
      runs(300),
    );
  });

  it('prototype keys (__proto__, constructor, prototype) anywhere in a config are rejected with their key path (regression: __proto__ was silently accepted)', async () => {
    const placements: ((k: string, v: unknown) => string)[] = [
      (k, v) => `{"${k}": ${JSON.stringify(v)}}`,
      (k, v) => `{"server": {"${k}": ${JSON.stringify(v)}}}`,
      (k, v) =>
        `{"detectors": {"Camera": {"type": "mock", "options": {"${k}": ${JSON.stringify(v)}}}}}`,
      (k, v) => `{"detectors": {"Camera": {"type": "mock", "${k}": ${JSON.stringify(v)}}}}`,
      (k, v) => `{"protocols": {"mjpeg": {"${k}": ${JSON.stringify(v)}}}}`,
      (k, v) =>
        `{"protocols": {"webrtc": {"turn_servers": [{"urls": ["turn:x"], "${k}": ${JSON.stringify(v)}}]}}}`,
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PROTO_KEYS),
        fc.constantFrom(...placements.keys()),
        fc.oneof(nastyMapping, nastyScalar),
        async (key, at, value) => {
          const raw = JSON.parse(placements[at](key, value ?? null)) as unknown;
          const outcome = await asyncOutcomeOf(() => loadConfig(raw, FIXTURES_DIR, {}, silent));
          expect(outcome.ok, `accepted a '${key}' key (placement ${at})`).to.equal(false);
          await checkLoad(raw);
        },
      ),
      { ...runs(60), examples: [['__proto__', 4, { throttle_ms: 1 }]] },
    );
  });

  it('reports the errors of every section at once (regression: only the first group was reported)', async () => {
    // Before b689714 parseBaseConfig (src/core/config.ts) threw on server/logging/plugins
    // problems before resolveConfig looked at detectors and protocols, so a config wrong in
    // server.port and in detectors.Camera.options.width reported only server.port.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          { port: -1 },
          { port: 'x' },
          { host: '' },
          { cors_origins: 'x' },
          { bogus: 1 },
        ),
        fc.constantFrom({ width: 0 }, { fps: 'x' }, { bogus: 1 }, { dtype: 'int7' }),
        fc.constantFrom({ jpeg_quality: 0 }, { throttle_ms: -1 }, { nope: 1 }),
        someOf(PARAMS_FIELDS.binary),
        async (server, options, mjpeg, binary) => {
          const raw = {
            server,
            detectors: { Camera: { type: 'mock', options } },
            protocols: { mjpeg, binary },
          };
          const outcome = await asyncOutcomeOf(() => loadConfig(raw, FIXTURES_DIR, {}, silent));
          expect(outcome.ok).to.equal(false);
          if (outcome.ok) return;
          expect(outcome.error, describeThrown(outcome.error)).to.be.instanceOf(ConfigError);
          const problems = (outcome.error as ConfigError).problems;
          expectKeyPaths(problems, raw);
          for (const path of ['server.', 'detectors.Camera.options.', 'protocols.mjpeg.']) {
            expect(
              problems.some((p) => p.startsWith(path)),
              `no problem under ${path} in: ${problems.join(' | ')}`,
            ).to.equal(true);
          }
        },
      ),
      runs(40),
    );
  });

  it('YAML with an unresolved alias or an alias bomb is a ConfigError (a ReferenceError escaped before)', () => {
    // parseYaml (src/core/config.ts) only turns doc.errors into ConfigError; doc.toJS() itself
    // throws ReferenceError for `a: *x` ("Unresolved alias …") and for nested aliases beyond
    // maxAliasCount ("Excessive alias count indicates a resource exhaustion attack"), so
    // `liveview --config` shows a stack trace instead of `file: …` messages.
    const unresolved = fc
      .tuple(fc.constantFrom(...TOP_LEVEL, 'x'), fc.stringMatching(/^[a-z]{1,6}$/))
      .map(([k, name]) => `${k}: *${name}\n`);
    const bomb = fc.integer({ min: 4, max: 6 }).map((levels) => {
      let t = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
      for (let i = 1; i < levels; i++) {
        t += `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]\n`;
      }
      return t;
    });
    fc.assert(
      fc.property(fc.oneof(unresolved, bomb), (t) => {
        const outcome = outcomeOf(() => parseYaml(t, SOURCE));
        if (!outcome.ok) {
          expect(outcome.error, describeThrown(outcome.error)).to.be.instanceOf(ConfigError);
        }
      }),
      { ...runs(30), examples: [['detectors: *x\n']] },
    );
  });

  it('self-referencing YAML aliases and values nested ~2000+ deep are a ConfigError (a stack overflow escaped before)', async () => {
    // validateInto (src/core/validation.ts) hands the whole value to class-transformer's
    // plainToInstance, which recurses without a depth limit or cycle check: a YAML anchor that
    // refers to itself (`server: &s {host: *s}`) or a value nested ~2000 levels deep throws
    // RangeError 'Maximum call stack size exceeded' out of loadConfig.
    const cyclic = fc.constantFrom(
      'server: &s\n  host: *s\n',
      'detectors:\n  Camera: &c\n    type: mock\n    options: { x: *c }\n',
      'protocols:\n  webrtc: &w\n    turn_servers: [*w]\n',
      'logging: &l\n  level: [*l]\n',
    );
    const deep = fc
      .tuple(
        fc.constantFrom('server', 'logging', 'detectors.Camera.options', 'protocols.mjpeg'),
        fc.integer({ min: 2000, max: 6000 }),
        fc.boolean(),
      )
      .map(([at, depth, list]) => {
        const leaf = { bogus: list ? deepList(depth) : deepMapping(depth) };
        const raw: Record<string, unknown> = {};
        if (at === 'detectors.Camera.options')
          raw.detectors = { Camera: { type: 'mock', options: leaf } };
        else if (at === 'protocols.mjpeg') raw.protocols = { mjpeg: leaf };
        else raw[at] = leaf;
        return raw;
      });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          cyclic.map((t) => ({ t })),
          deep.map((raw) => ({ raw })),
        ),
        async (c) => {
          const raw = 't' in c ? parseYaml(c.t, SOURCE) : c.raw;
          const outcome = await asyncOutcomeOf(() => loadConfig(raw, FIXTURES_DIR, {}, silent));
          if (!outcome.ok) {
            expect(outcome.error, describeThrown(outcome.error)).to.be.instanceOf(ConfigError);
          }
        },
      ),
      { ...runs(20), examples: [[{ t: 'server: &s\n  host: *s\n' }]] },
    );
  });
});
