import { expect } from 'chai';
import sinon from 'sinon';
import type { DetectorInfo, ParameterSpec, ParameterValue } from '../../src/core/detector.js';
import { createLogger } from '../../src/core/logger.js';
import { ReconnectingDetector } from '../../src/core/reconnecting-detector.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A device the test unplugs and plugs back: each open takes the next planned outcome (an error,
 * or a deferred the test settles later); with nothing planned it opens at once.
 */
class FlakyDetector extends ReconnectingDetector {
  opens = 0;
  closes = 0;
  isOpen = false;
  readonly plan: (Error | Deferred)[] = [];
  readonly states: string[] = [];

  constructor(reconnectMs = 500) {
    super('Flaky', 'flaky', createLogger('silent'), reconnectMs);
    this.on('state', (s) => this.states.push(s));
  }

  get info(): DetectorInfo {
    return {
      vendor: 'test',
      model: 'flaky',
      serial: '0',
      sensorWidth: 1,
      sensorHeight: 1,
      dtypes: [],
    };
  }

  getParameterSpecs(): ParameterSpec[] {
    return [];
  }

  getParameters(): Record<string, ParameterValue> {
    return {};
  }

  protected async applyParameters(): Promise<void> {}

  protected async openDevice(): Promise<void> {
    this.opens++;
    const next = this.plan.shift();
    if (next instanceof Error) throw next;
    if (next) await next.promise;
    this.isOpen = true;
  }

  protected async closeDevice(): Promise<void> {
    if (this.isOpen) this.closes++;
    this.isOpen = false;
  }

  /** What a plugin does when its device vanishes: release it, then report the loss. */
  unplug(reason = 'cable pulled'): void {
    this.isOpen = false;
    this.deviceLost(reason);
  }

  spyDebug(): sinon.SinonSpy {
    return sinon.spy(this.logger, 'debug');
  }
}

describe('ReconnectingDetector', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  it('reports a loss as error with the interval, and reopens the device after it', async () => {
    const d = new FlakyDetector();
    await d.start();
    d.unplug();
    expect(d.state).to.equal('error');
    expect(d.error).to.equal('cable pulled; reconnecting every 500 ms');
    await clock.tickAsync(499);
    expect(d.opens).to.equal(1);
    await clock.tickAsync(1);
    expect(d.opens).to.equal(2);
    expect(d.state).to.equal('running');
    expect(d.error).to.equal(undefined);
    expect(d.isOpen).to.equal(true);
    expect(clock.countTimers()).to.equal(0);
    expect(d.states).to.deep.equal(['starting', 'running', 'error', 'running']);
  });

  it('retries a failing attempt every interval, logging it at debug, until the device answers', async () => {
    const d = new FlakyDetector();
    const debug = d.spyDebug();
    await d.start();
    d.plan.push(new Error('no such device'), new Error('no such device'));
    d.unplug();
    await clock.tickAsync(500);
    expect(d.opens).to.equal(2);
    expect(d.state).to.equal('error');
    expect(d.error).to.equal('cable pulled; reconnecting every 500 ms');
    expect(debug.calledOnce).to.equal(true);
    expect(debug.firstCall.args[1]).to.equal('reconnect failed');
    expect(debug.firstCall.args[0]).to.deep.include({ err: 'no such device' });
    expect(clock.countTimers()).to.equal(1);
    await clock.tickAsync(500);
    expect(d.opens).to.equal(3);
    expect(d.state).to.equal('error');
    await clock.tickAsync(500);
    expect(d.opens).to.equal(4);
    expect(d.state).to.equal('running');
    expect(clock.countTimers()).to.equal(0);
  });

  it('stop() during a pending attempt: the attempt finishing later neither says running nor leaves the device open', async () => {
    const d = new FlakyDetector();
    await d.start();
    const attempt = deferred();
    d.plan.push(attempt);
    d.unplug();
    await clock.tickAsync(500);
    expect(d.opens).to.equal(2);
    const stopped = d.stop();
    attempt.resolve();
    await stopped;
    await clock.tickAsync(0);
    expect(d.state).to.equal('idle');
    expect(d.states).to.deep.equal(['starting', 'running', 'error', 'idle']);
    expect(d.isOpen, 'what the late attempt opened is closed').to.equal(false);
    expect(clock.countTimers()).to.equal(0);
    await clock.tickAsync(5000);
    expect(d.opens).to.equal(2);
    expect(d.state).to.equal('idle');
  });

  it('stop() during a pending attempt that fails later schedules no retry', async () => {
    const d = new FlakyDetector();
    await d.start();
    const attempt = deferred();
    d.plan.push(attempt);
    d.unplug();
    await clock.tickAsync(500);
    const stopped = d.stop();
    attempt.reject(new Error('no such device'));
    await stopped;
    await clock.tickAsync(5000);
    expect(d.state).to.equal('idle');
    expect(d.opens).to.equal(2);
    expect(clock.countTimers()).to.equal(0);
  });

  it('stop() while waiting for the next attempt clears the timer', async () => {
    const d = new FlakyDetector();
    await d.start();
    d.unplug();
    await clock.tickAsync(200);
    expect(clock.countTimers()).to.equal(1);
    await d.stop();
    expect(clock.countTimers()).to.equal(0);
    await clock.tickAsync(5000);
    expect(d.opens).to.equal(1);
    expect(d.state).to.equal('idle');
    expect(d.error).to.equal(undefined);
  });

  it('close() ends the loop, whether it waits for the timer or for an attempt', async () => {
    const waiting = new FlakyDetector();
    await waiting.start();
    waiting.unplug();
    await waiting.close();
    expect(waiting.state).to.equal('closed');
    expect(clock.countTimers()).to.equal(0);

    const attempting = new FlakyDetector();
    await attempting.start();
    const attempt = deferred();
    attempting.plan.push(attempt);
    attempting.unplug();
    await clock.tickAsync(500);
    const closed = attempting.close();
    attempt.resolve();
    await closed;
    await clock.tickAsync(5000);
    expect(attempting.state).to.equal('closed');
    expect(attempting.isOpen).to.equal(false);
    expect(attempting.states).to.deep.equal(['starting', 'running', 'error', 'idle', 'closed']);
    expect(attempting.opens).to.equal(2);
    expect(waiting.opens).to.equal(1);
    expect(clock.countTimers()).to.equal(0);
  });

  it('runs one attempt at a time: more losses while reconnecting start no second loop', async () => {
    const d = new FlakyDetector();
    await d.start();
    d.unplug();
    d.unplug('still gone');
    expect(clock.countTimers()).to.equal(1);
    expect(d.error).to.equal('still gone; reconnecting every 500 ms');
    const attempt = deferred();
    d.plan.push(attempt);
    await clock.tickAsync(500);
    // The device vanishes again while the attempt opens it: that attempt must not say running.
    d.unplug('lost again');
    expect(clock.countTimers()).to.equal(0);
    attempt.resolve();
    await clock.tickAsync(0);
    expect(d.state).to.equal('error');
    expect(clock.countTimers()).to.equal(1);
    await clock.tickAsync(500);
    expect(d.state).to.equal('running');
    expect(d.opens).to.equal(3);
  });

  it('a start() during an outage tries at once instead of opening the device a second time', async () => {
    const d = new FlakyDetector();
    await d.start();
    d.plan.push(new Error('no such device'));
    d.unplug();
    // A new viewer while the device is still gone: start() fails, the loop goes on.
    let failure: unknown;
    await d.start().catch((err: unknown) => (failure = err));
    expect((failure as Error).message).to.equal('cable pulled; reconnecting every 500 ms');
    expect(d.opens).to.equal(2);
    expect(clock.countTimers()).to.equal(1);
    // Once it is back, the next start() reconnects at once, without waiting for the timer.
    await clock.tickAsync(100);
    await d.start();
    expect(d.state).to.equal('running');
    expect(d.opens).to.equal(3);
    expect(clock.countTimers()).to.equal(0);
  });

  it('ignores a loss while stopped, and a failed start leaves no loop behind', async () => {
    const d = new FlakyDetector();
    d.unplug();
    expect(d.state).to.equal('idle');
    d.plan.push(new Error('busy'));
    let failure: unknown;
    await d.start().catch((err: unknown) => (failure = err));
    expect((failure as Error).message).to.equal('busy');
    d.unplug();
    expect(d.error).to.equal('busy');
    expect(clock.countTimers()).to.equal(0);
  });

  it('a device lost while start() opens it fails the start and is released', async () => {
    const d = new FlakyDetector();
    const opening = deferred();
    d.plan.push(opening);
    const started = d.start();
    await clock.tickAsync(0);
    d.unplug('vanished while starting');
    opening.resolve();
    let failure: unknown;
    await started.catch((err: unknown) => (failure = err));
    expect((failure as Error).message).to.equal('vanished while starting');
    expect(d.state).to.equal('error');
    expect(d.isOpen).to.equal(false);
    expect(clock.countTimers()).to.equal(0);
  });

  it('rejects a reconnect interval that is not a positive number', () => {
    expect(() => new FlakyDetector(0)).to.throw(TypeError, /reconnectMs/);
  });
});
