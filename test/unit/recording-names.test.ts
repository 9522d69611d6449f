import { expect } from 'chai';
import { compactUtc, recordingBaseName } from '../../src/core/recording-names.js';
import { BadRequestError } from '../../src/core/errors.js';

describe('recording file names', () => {
  const time = new Date('2026-11-30T20:45:12.345Z');

  it('fills the pattern with the detector, format, name and a compact UTC time', () => {
    expect(compactUtc(time)).to.equal('20261130T204512Z');
    expect(
      recordingBaseName('{name}_{time}', { detector: 'Camera', format: 'ome-tiff', time }),
    ).to.equal('Camera_20261130T204512Z');
    expect(
      recordingBaseName('{detector}-{format}-{name}', {
        detector: 'Cam.1',
        format: 'mp4',
        time,
        name: 'run-7',
      }),
    ).to.equal('Cam.1-mp4-run-7');
  });

  it('keeps unknown fields as written but never a character that leaves the folder', () => {
    expect(
      recordingBaseName('../{x}/{name}', { detector: 'Camera', format: 'mp4', time }),
    ).to.equal('x_Camera');
    expect(recordingBaseName('...', { detector: 'Camera', format: 'mp4', time })).to.equal(
      '20261130T204512Z',
    );
  });

  for (const bad of [
    '../etc/passwd',
    '.hidden',
    'a/b',
    'a\\b',
    '',
    'x'.repeat(101),
    'semi;colon',
  ]) {
    it(`refuses the name ${JSON.stringify(bad.slice(0, 20))}`, () => {
      expect(() =>
        recordingBaseName('{name}', { detector: 'Camera', format: 'mp4', time, name: bad }),
      ).to.throw(BadRequestError, /is not a valid recording name/);
    });
  }
});
