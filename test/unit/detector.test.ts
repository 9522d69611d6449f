import { expect } from 'chai';
import { checkParameter } from '../../src/core/detector.js';
import { BadRequestError } from '../../src/core/errors.js';
import { FakeDetector } from '../helpers/fake-detector.js';

describe('BaseDetector', () => {
  it('validates parameters against their specs before applying them', async () => {
    const d = new FakeDetector();
    expect(await d.setParameters({ gain: 2 })).to.deep.equal({ gain: 2, model: 'fake' });
    const cases: [Record<string, unknown>, string][] = [
      [{ gain: 11 }, "parameter 'gain' must be a number between 1 and 10"],
      [{ gain: '2' }, "parameter 'gain' must be a number between 1 and 10"],
      [{ model: 'x' }, "parameter 'model' is read-only"],
      [{ exposure: 1 }, "unknown parameter 'exposure' for detector 'Fake' (known: gain, model)"],
    ];
    for (const [values, message] of cases) {
      let error: unknown;
      await d.setParameters(values).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(BadRequestError);
      expect((error as Error).message).to.equal(message);
    }
    expect(d.getParameters().gain).to.equal(2);
  });

  it('checks integer, enum and boolean specs', () => {
    expect(
      checkParameter({ name: 'w', type: 'integer', min: 1, max: 8, description: '' }, 2.5),
    ).to.equal("parameter 'w' must be an integer between 1 and 8");
    expect(
      checkParameter({ name: 'm', type: 'enum', values: ['a', 'b'], description: '' }, 'c'),
    ).to.equal("parameter 'm' must be one of: a, b");
    expect(checkParameter({ name: 'f', type: 'boolean', description: '' }, 1)).to.equal(
      "parameter 'f' must be true or false",
    );
    expect(checkParameter({ name: 'f', type: 'boolean', description: '' }, false)).to.equal(
      undefined,
    );
  });

  it('reports state changes and errors through events; a throwing listener does not break delivery', async () => {
    const d = new FakeDetector();
    const states: string[] = [];
    const frames: number[] = [];
    d.on('state', (s) => states.push(s));
    d.on('frame', () => {
      throw new Error('listener bug');
    });
    d.on('frame', (f) => frames.push(f.frameNumber));
    await d.start();
    d.push();
    d.vanish('cable pulled');
    expect(d.error).to.equal('cable pulled');
    await d.close();
    await d.close();
    expect(states).to.deep.equal(['starting', 'running', 'error', 'idle', 'closed']);
    expect(frames).to.deep.equal([0]);
  });

  it('stop() while start() is under way: the detector stays stopped, and what the start opened is released', async () => {
    const d = new FakeDetector();
    let finishStart!: () => void;
    d.startGate = new Promise<void>((resolve) => (finishStart = resolve));
    const states: string[] = [];
    d.on('state', (s) => states.push(s));
    const starting = d.start().then(
      () => 'started',
      (e: Error) => e.message,
    );
    await d.stop();
    finishStart();
    expect(await starting).to.equal("detector 'Fake' was stopped while it started");
    expect(d.state).to.equal('idle');
    expect(states).to.deep.equal(['starting', 'idle']);
    expect(d.stops).to.equal(2);
    await d.start();
    expect(d.state).to.equal('running');
    await d.close();
  });

  it('close() while start() is under way ends closed, not running', async () => {
    const d = new FakeDetector();
    let finishStart!: () => void;
    d.startGate = new Promise<void>((resolve) => (finishStart = resolve));
    const starting = d.start().catch(() => undefined);
    await d.close();
    finishStart();
    await starting;
    expect(d.state).to.equal('closed');
  });
});
