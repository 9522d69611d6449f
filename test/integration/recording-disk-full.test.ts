import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Frame } from '../../src/core/frame.js';
import type { RecordingFormat, RecordingSink } from '../../src/core/recording.js';
import { OmeTiffFormat, OmeZarrFormat } from '../../src/recording/index.js';
import { PROVISIONAL_DESCRIPTION } from '../../src/recording/ome-tiff-writer.js';
import { manualContext, waitFor } from '../helpers/recording-context.js';
import { frameHash, pythonHas, readRecording, testFrame } from '../helpers/recording-readers.js';

/** 128x128 uint16 frames: 32 KiB each, so a 2 MiB disk fills after about 60. */
function frame(i: number): Frame {
  return testFrame('uint16', 1, 128, 128, i, 1_700_000_000_000_000_000n + BigInt(i) * 10_000_000n);
}

/**
 * Pushes frames one at a time into a recording until it ends by itself; returns the frames the
 * recording took and the message it ended with.
 */
async function fillUp(
  format: RecordingFormat,
  file: string,
  params: Record<string, unknown>,
): Promise<{ frames: Frame[]; written: number; message: string }> {
  const { context, push } = manualContext(file, params);
  const sink: RecordingSink = await format.start(context);
  let message = '';
  let ended = false;
  sink.ended.then(
    () => (ended = true),
    (err: Error) => {
      ended = true;
      message = err.message;
    },
  );
  const frames: Frame[] = [];
  for (let i = 0; i < 400 && !ended; i++) {
    const f = frame(i);
    frames.push(f);
    push(f);
    await waitFor(() => ended || sink.stats.framesWritten === i + 1, 20_000, `frame ${i}`);
  }
  await waitFor(() => ended, 20_000, 'the recording to end');
  return { frames, written: sink.stats.framesWritten, message };
}

describe('recording on a full disk', function () {
  this.timeout(120_000);
  let dir = '';
  let mounted = false;

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), 'liveview-full-'));
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], {
      encoding: 'utf8',
    });
    if (mount.status !== 0) {
      // Needs root (CI runs as root); elsewhere there is nothing to fill.
      console.log(
        `    (cannot mount a 2 MiB tmpfs: ${(mount.stderr || String(mount.error)).trim()})`,
      );
      this.skip();
    }
    mounted = true;
  });
  after(async () => {
    if (mounted) spawnSync('umount', [dir]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ome-tiff: the write fails with a clear message and the file reads up to the last whole frame', async function () {
    if (!pythonHas('tifffile', 'numpy')) this.skip();
    const file = path.join(dir, 'full.ome.tif');
    const { frames, written, message } = await fillUp(new OmeTiffFormat(), file, {});
    expect(message).to.equal('writing failed: no space left on the disk of full.ome.tif');
    expect(written).to.be.greaterThan(10);
    const r = await readRecording('tiff', file);
    expect(r.pages).to.equal(written);
    expect(r.hashes).to.deep.equal(frames.slice(0, written).map(frameHash));
    // Cutting the torn page usually makes room for the OME-XML; if not, the file is a plain TIFF.
    if (r.is_ome) {
      expect((r.ome as { pixels: Record<string, string> }).pixels.SizeT).to.equal(String(written));
    } else {
      expect(r.description).to.equal(PROVISIONAL_DESCRIPTION);
    }
    await rm(file);
  });

  it('ome-zarr: the write fails with a clear message and the array lists only whole frames', async function () {
    if (!pythonHas('zarr', 'numpy')) this.skip();
    const store = path.join(dir, 'full.ome.zarr');
    const { frames, written, message } = await fillUp(new OmeZarrFormat(), store, {
      compressor: 'none',
    });
    expect(message).to.equal('writing failed: no space left on the disk of full.ome.zarr');
    const r = await readRecording('zarr', store);
    const listed = (r.shape as number[])[0];
    expect(listed).to.be.greaterThan(10);
    expect(listed).to.be.at.most(written);
    expect(r.hashes).to.deep.equal(frames.slice(0, listed).map(frameHash));
    expect((r.attrs as { liveview: { frames: number } }).liveview.frames).to.equal(listed);
    await rm(store, { recursive: true });
  });
});
