import { expect } from 'chai';
import sinon from 'sinon';
import type { Logger } from '../../src/core/logger.js';
import { SLOW_READER_REPORT_MS, SlowReaderReport } from '../../src/core/slow-reader-report.js';

/** A reader as a session looks to the report: its skipped count goes up as it loses frames. */
function reader(id: string, framesSkipped = 0) {
  return { id, remote: `10.0.0.${id.length}:1234`, framesSkipped };
}

describe('SlowReaderReport', () => {
  let clock: sinon.SinonFakeTimers;
  let warn: sinon.SinonSpy;
  let logger: Logger;
  let streamDropped: number;
  let report: SlowReaderReport;

  /** The warn lines so far as [fields, message]. */
  const lines = (): [Record<string, unknown>, string][] =>
    warn.getCalls().map((c) => [c.args[0] as Record<string, unknown>, c.args[1] as string]);

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    warn = sinon.spy();
    logger = { warn, info: sinon.spy(), error: sinon.spy() } as unknown as Logger;
    streamDropped = 0;
    report = new SlowReaderReport(logger, () => streamDropped);
  });
  afterEach(() => {
    report.close();
    clock.restore();
  });

  it('logs a losing reader once per period, with the count since the last line', () => {
    const r = reader('a');
    report.track(r);
    // Losses spread over the period: one line at its end, not one per frame.
    for (let i = 0; i < 5; i++) {
      r.framesSkipped++;
      clock.tick(SLOW_READER_REPORT_MS / 10);
    }
    expect(warn.callCount).to.equal(0);
    clock.tick(SLOW_READER_REPORT_MS / 2);
    expect(lines()).to.deep.equal([
      [
        { client: 'a', remote: r.remote, skipped: 5 },
        'reader too slow, discarded 5 frames in the last 10 s',
      ],
    ]);
    r.framesSkipped += 7;
    clock.tick(SLOW_READER_REPORT_MS);
    expect(warn.callCount).to.equal(2);
    expect(lines()[1][0]).to.include({ client: 'a', skipped: 7 });
    expect(lines()[1][1]).to.equal('reader too slow, discarded 7 frames in the last 10 s');
  });

  it('never logs a reader more than once per period however many frames it loses', () => {
    const r = reader('busy');
    report.track(r);
    for (let t = 0; t < 3 * SLOW_READER_REPORT_MS; t += 100) {
      r.framesSkipped += 3;
      clock.tick(100);
    }
    expect(warn.callCount).to.equal(3);
    expect(lines().map(([f]) => f.skipped)).to.deep.equal([300, 300, 300]);
  });

  it('does not log silent readers, nor losses from before it started watching', () => {
    const silent = reader('silent', 40);
    const losing = reader('losing', 2);
    report.track(silent);
    report.track(losing);
    losing.framesSkipped = 5;
    clock.tick(3 * SLOW_READER_REPORT_MS);
    expect(lines().map(([f]) => [f.client, f.skipped])).to.deep.equal([['losing', 3]]);
  });

  it("reports the stream's own drops to its detector, since the last line", () => {
    streamDropped = 4; // before the first reader: not news
    report.track(reader('a'));
    streamDropped = 10;
    clock.tick(SLOW_READER_REPORT_MS);
    expect(lines()).to.deep.equal([
      [{ dropped: 6 }, 'stream too slow for its detector, discarded 6 frames in the last 10 s'],
    ]);
    clock.tick(SLOW_READER_REPORT_MS);
    expect(warn.callCount, 'no new drops, no line').to.equal(1);
    streamDropped = 11;
    clock.tick(SLOW_READER_REPORT_MS);
    expect(lines()[1][0]).to.deep.equal({ dropped: 1 });
  });

  it('names the period it was given', () => {
    report.close();
    report = new SlowReaderReport(logger, () => streamDropped, 2000);
    const r = reader('a');
    report.track(r);
    r.framesSkipped = 1;
    clock.tick(2000);
    expect(lines()[0][1]).to.equal('reader too slow, discarded 1 frames in the last 2 s');
  });

  it('forget stops the reports of that reader only', () => {
    const gone = reader('gone');
    const staying = reader('staying');
    report.track(gone);
    report.track(staying);
    gone.framesSkipped = 9;
    staying.framesSkipped = 1;
    report.forget(gone);
    clock.tick(2 * SLOW_READER_REPORT_MS);
    expect(lines().map(([f]) => f.client)).to.deep.equal(['staying']);
  });

  it('close stops every report and the timer; tracking after close starts nothing', () => {
    const r = reader('a');
    report.track(r);
    expect(clock.countTimers()).to.equal(1);
    r.framesSkipped = 3;
    streamDropped = 3;
    report.close();
    expect(clock.countTimers()).to.equal(0);
    clock.tick(3 * SLOW_READER_REPORT_MS);
    report.track(r);
    r.framesSkipped = 6;
    clock.tick(3 * SLOW_READER_REPORT_MS);
    expect(clock.countTimers()).to.equal(0);
    expect(warn.callCount).to.equal(0);
    report.close(); // idempotent
  });

  it('runs no timer before the first reader, and one for all readers', () => {
    expect(clock.countTimers()).to.equal(0);
    report.track(reader('a'));
    report.track(reader('b'));
    expect(clock.countTimers()).to.equal(1);
  });
});
