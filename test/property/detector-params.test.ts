import { expect } from 'chai';
import fc from 'fast-check';
import type { Frame } from '../../src/core/frame.js';
import type { ParameterSpec } from '../../src/core/detector.js';
import { LiveViewError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { MockDetector, parseMockOptions, pixelCodeProblems } from '../../src/plugins/mock/index.js';
import { waitFor } from '../helpers/server.js';
import {
  asyncOutcomeOf,
  describeThrown,
  nastyKey,
  nastyValue,
  objectOf,
  oneFieldWrong,
  runs,
  snapshot,
  someOf,
} from '../helpers/arbitraries.js';

/** Valid values of the mock camera's writable parameters (sizes kept small). */
const WRITABLE: Record<string, fc.Arbitrary<unknown>> = {
  exposure_ms: fc.double({ min: 0.01, max: 50, noNaN: true }),
  gain: fc.double({ min: 0.1, max: 64, noNaN: true }),
  fps: fc.double({ min: 0.1, max: 1000, noNaN: true }),
  pattern: fc.constantFrom('features', 'gradient', 'noise'),
  noise: fc.double({ min: 0, max: 100, noNaN: true }),
  width: fc.integer({ min: 1, max: 512 }),
  height: fc.integer({ min: 1, max: 512 }),
  pixel_code: fc.boolean(),
  fault: fc.constant('none'),
  fault_after_frames: fc.integer({ min: 0, max: 1e9 }),
};
const READ_ONLY = ['dtype', 'bit_depth', 'channels'];

function newDetector(): MockDetector {
  const options = parseMockOptions({ width: 128, height: 96, fps: 50, pixel_code: true }, 'o');
  return new MockDetector('Prop', options, createLogger('silent'));
}

/** Whether a value satisfies the spec the detector itself advertises (an independent oracle). */
function satisfies(spec: ParameterSpec | undefined, value: unknown): boolean {
  if (!spec || spec.readOnly) return false;
  const inRange = (v: number) =>
    (spec.min === undefined || v >= spec.min) && (spec.max === undefined || v <= spec.max);
  switch (spec.type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) && inRange(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && inRange(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'enum':
      return typeof value === 'string' && (spec.values ?? []).includes(value);
    default:
      return false;
  }
}

/** Whether setParameters must accept `values` on `detector` (every value valid, pixel code fits). */
function mustAccept(detector: MockDetector, values: Record<string, unknown>): boolean {
  const specs = new Map(detector.getParameterSpecs().map((s) => [s.name, s]));
  if (!Object.entries(values).every(([k, v]) => satisfies(specs.get(k), v))) return false;
  const next = { ...detector.getParameters(), ...values };
  if (!next.pixel_code) return true;
  return pixelCodeProblems(next.width as number, next.height as number, '').length === 0;
}

const valuesArbitrary: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  someOf(WRITABLE),
  oneFieldWrong(someOf(WRITABLE), [...Object.keys(WRITABLE), ...READ_ONLY]).map((w) => w.value),
  oneFieldWrong(someOf(WRITABLE), ['__proto__', 'constructor', 'toString', 'Width', '']).map(
    (w) => w.value,
  ),
  fc.array(fc.tuple(nastyKey, nastyValue), { maxLength: 4 }).map(objectOf),
  fc
    .array(fc.tuple(fc.constantFrom(...Object.keys(WRITABLE), ...READ_ONLY), nastyValue), {
      maxLength: 4,
    })
    .map(objectOf),
);

/** The contract: resolves to the new values (and they are applied), or rejects with a 4xx LiveViewError and changes nothing. */
async function checkSet(detector: MockDetector, values: Record<string, unknown>): Promise<void> {
  const before = snapshot(detector.getParameters());
  const expectAccept = mustAccept(detector, values);
  const outcome = await asyncOutcomeOf(() => detector.setParameters(values));
  if (outcome.ok) {
    expect(expectAccept, `accepted invalid values ${snapshot(values)}`).to.equal(true);
    const now = detector.getParameters();
    expect(snapshot(outcome.value)).to.equal(snapshot(now));
    for (const [k, v] of Object.entries(values)) expect(now[k], k).to.equal(v);
    return;
  }
  const err = outcome.error;
  expect(err, describeThrown(err)).to.be.instanceOf(LiveViewError);
  const status = (err as LiveViewError).status;
  expect(status).to.be.within(400, 499);
  expect((err as Error).message)
    .to.be.a('string')
    .and.have.length.above(0);
  expect(
    expectAccept,
    `rejected valid values ${snapshot(values)}: ${describeThrown(err)}`,
  ).to.equal(false);
  expect(snapshot(detector.getParameters()), 'rejected values changed the parameters').to.equal(
    before,
  );
}

describe('property: mock detector setParameters', function () {
  this.timeout(30_000);

  it('any values: applied exactly when each satisfies its advertised spec, else a 4xx error and getParameters() unchanged', async () => {
    const detector = newDetector();
    await fc.assert(
      fc.asyncProperty(valuesArbitrary, (values) => checkSet(detector, values)),
      runs(400),
    );
  });

  it('a running camera: rejected values change neither its parameters nor the frames it delivers', async () => {
    const detector = newDetector();
    const frames: Frame[] = [];
    const onFrame = (f: Frame) => frames.push(f);
    detector.on('frame', onFrame);
    await detector.start();
    try {
      await waitFor(() => frames.length >= 2);
      const invalid = valuesArbitrary.filter((v) => !mustAccept(detector, v));
      await fc.assert(
        fc.asyncProperty(invalid, (values) => checkSet(detector, values)),
        runs(200),
      );
      const seen = frames.length;
      await waitFor(() => frames.length >= seen + 2);
      const last = frames[frames.length - 1];
      expect([last.width, last.height]).to.deep.equal([128, 96]);
      expect(detector.state).to.equal('running');
    } finally {
      detector.off('frame', onFrame);
      await detector.stop();
    }
  });
});
