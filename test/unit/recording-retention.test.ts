import { expect } from 'chai';
import { expiredRecordings } from '../../src/core/recording-retention.js';
import { RetentionConfig } from '../../src/core/recordings-config.js';

const DAY = 86_400_000;
const now = Date.parse('2026-11-30T12:00:00Z');

function retention(max_age_days: number, max_total_bytes: number): RetentionConfig {
  return Object.assign(new RetentionConfig(), { max_age_days, max_total_bytes });
}

describe('recording retention', () => {
  const finished = [
    { id: 'new', stoppedAtMs: now - 1 * DAY, bytes: 300 },
    { id: 'old', stoppedAtMs: now - 10 * DAY, bytes: 100 },
    { id: 'mid', stoppedAtMs: now - 5 * DAY, bytes: 200 },
  ];

  it('keeps everything by default', () => {
    expect(expiredRecordings(finished, retention(0, 0), now)).to.deep.equal([]);
  });

  it('deletes what is older than max_age_days', () => {
    expect(expiredRecordings(finished, retention(7, 0), now)).to.deep.equal(['old']);
    expect(expiredRecordings(finished, retention(2, 0), now)).to.deep.equal(['old', 'mid']);
  });

  it('deletes the oldest until the rest fit max_total_bytes', () => {
    expect(expiredRecordings(finished, retention(0, 500), now)).to.deep.equal(['old']);
    expect(expiredRecordings(finished, retention(0, 300), now)).to.deep.equal(['old', 'mid']);
    expect(expiredRecordings(finished, retention(0, 299), now)).to.deep.equal([
      'old',
      'mid',
      'new',
    ]);
  });

  it('applies the age first and the size to what is left', () => {
    expect(expiredRecordings(finished, retention(7, 400), now)).to.deep.equal(['old', 'mid']);
  });
});
