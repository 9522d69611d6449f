import { expect } from 'chai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Dtype, Frame } from '../../src/core/frame.js';
import { OmeTiffFormat, OmeTiffWriter } from '../../src/recording/index.js';
import { PROVISIONAL_DESCRIPTION } from '../../src/recording/ome-tiff-writer.js';
import { mockCameraContext, waitFor } from '../helpers/recording-context.js';
import { frameHash, pythonHas, readRecording, testFrame } from '../helpers/recording-readers.js';

const T0 = 1_700_000_000_000_000_000n;
const COMBOS: [Dtype, 1 | 3][] = (['uint8', 'uint16', 'uint32', 'float32'] as Dtype[]).flatMap(
  (d): [Dtype, 1 | 3][] => [
    [d, 1],
    [d, 3],
  ],
);

/** Frames 33 ms apart with exposure 10, 11, 12… ms; odd sizes, so pages need padding. */
function frames(dtype: Dtype, channels: 1 | 3, count: number, width = 33, height = 17): Frame[] {
  return Array.from({ length: count }, (_, i) =>
    testFrame(dtype, channels, width, height, 100 + i, T0 + BigInt(i) * 33_000_000n, {
      exposure_ms: 10 + i,
    }),
  );
}

async function writeAll(file: string, list: Frame[], options = {}): Promise<OmeTiffWriter> {
  const w = await OmeTiffWriter.create(file, { name: 'Cam', ...options });
  for (const f of list) await w.write(f);
  return w;
}

type Ome = {
  pixels: Record<string, string>;
  channels: Record<string, string>[];
  planes: Record<string, string>[];
  tiffdata: Record<string, string>[];
};

describe('OME-TIFF recording (read back with tifffile)', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    if (!pythonHas('tifffile', 'numpy')) this.skip(); // Debian: python3-tifffile
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'liveview-tiff-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const [dtype, channels] of COMBOS) {
    it(`${dtype} ${channels === 3 ? 'RGB' : 'gray'}: bit-exact pages and valid OME-XML`, async () => {
      const file = path.join(dir, 'a.ome.tif');
      const list = frames(dtype, channels, 3);
      const w = await writeAll(file, list, { pixelSizeUm: 0.65 });
      await w.close();
      expect(w.bytesWritten).to.equal((await stat(file)).size);
      const r = await readRecording('tiff', file);
      expect(r.hashes).to.deep.equal(list.map(frameHash));
      expect(r).to.include({ is_ome: true, is_bigtiff: false, pages: 3, series_kind: 'ome' });
      expect(r.dtype).to.equal(dtype);
      expect(r.series_shape).to.deep.equal(channels === 3 ? [3, 17, 33, 3] : [3, 17, 33]);
      const ome = r.ome as Ome;
      expect(ome.pixels).to.include({
        SizeT: '3',
        SizeC: String(channels),
        SizeX: '33',
        SizeY: '17',
        PhysicalSizeX: '0.65',
        PhysicalSizeXUnit: 'µm',
        Type: dtype === 'float32' ? 'float' : dtype,
      });
      expect(ome.channels).to.deep.equal([
        { ID: 'Channel:0:0', SamplesPerPixel: String(channels) },
      ]);
      expect(ome.planes.map((p) => [p.TheT, p.DeltaT, p.ExposureTime])).to.deep.equal([
        ['0', '0', '10'],
        ['1', '0.033', '11'],
        ['2', '0.066', '12'],
      ]);
    });
  }

  it('bigtiff: always writes a BigTIFF from the first page', async () => {
    const file = path.join(dir, 'b.ome.tif');
    const list = frames('uint16', 1, 2);
    await (await writeAll(file, list, { bigtiff: 'always' })).close();
    const r = await readRecording('tiff', file);
    expect(r).to.include({ is_ome: true, is_bigtiff: true, pages: 2 });
    expect(r.hashes).to.deep.equal(list.map(frameHash));
  });

  it('auto: a classic file that reaches its limit becomes a BigTIFF in place, every page kept', async () => {
    const file = path.join(dir, 'c.ome.tif');
    const list = frames('uint16', 3, 7, 40, 30); // 7200 bytes of pixels per page
    const w = await OmeTiffWriter.create(file, { name: 'Cam', classicLimit: 30_000 });
    for (const f of list.slice(0, 3)) await w.write(f);
    expect(w.isBigTiff).to.equal(false);
    const before = await readRecording('tiff', file);
    expect(before).to.include({ is_bigtiff: false, pages: 3 });
    for (const f of list.slice(3)) await w.write(f);
    expect(w.isBigTiff).to.equal(true);
    await w.close();
    const r = await readRecording('tiff', file);
    expect(r).to.include({ is_ome: true, is_bigtiff: true, pages: 7 });
    expect(r.hashes).to.deep.equal(list.map(frameHash));
    expect((r.ome as Ome).pixels.SizeT).to.equal('7');
  });

  it('auto: pages that fit but an OME-XML that would not make the file a BigTIFF at close', async () => {
    const list = frames('uint8', 1, 3);
    const probe = await writeAll(path.join(dir, 'probe.ome.tif'), list);
    const pagesEnd = probe.bytesWritten;
    await probe.close();
    const file = path.join(dir, 'g.ome.tif');
    const w = await writeAll(file, list, { classicLimit: pagesEnd + 10 });
    expect(w.isBigTiff).to.equal(false);
    await w.close();
    expect(w.isBigTiff).to.equal(true);
    const r = await readRecording('tiff', file);
    expect(r).to.include({ is_ome: true, is_bigtiff: true, pages: 3 });
    expect(r.hashes).to.deep.equal(list.map(frameHash));
  });

  it('the file reads after every whole page, before the OME-XML is written', async () => {
    const file = path.join(dir, 'd.ome.tif');
    const list = frames('uint16', 1, 3);
    const w = await writeAll(file, list.slice(0, 2));
    const during = await readRecording('tiff', file);
    expect(during).to.include({ is_ome: false, pages: 2, description: PROVISIONAL_DESCRIPTION });
    expect(during.hashes).to.deep.equal(list.slice(0, 2).map(frameHash));
    await w.write(list[2]);
    await w.close();
    await w.close(); // idempotent
    const after = await readRecording('tiff', file);
    expect(after).to.include({ is_ome: true, pages: 3 });
  });

  it('a frame of another size ends the recording with a clear message; the file keeps the others', async () => {
    const file = path.join(dir, 'e.ome.tif');
    const list = frames('uint16', 1, 2);
    const w = await writeAll(file, list);
    const other = testFrame('uint16', 1, 20, 10, 7, T0);
    let message = '';
    await w.write(other).catch((err: Error) => (message = err.message));
    expect(message).to.equal(
      'frame 7 is 20x10 uint16 gray, the recording is 33x17 uint16 gray: a recording keeps one ' +
        'frame format (start a new one after changing the size, region of interest or pixel format)',
    );
    await w.close();
    const r = await readRecording('tiff', file);
    expect(r).to.include({ is_ome: true, pages: 2 });
    expect(r.hashes).to.deep.equal(list.map(frameHash));
  });

  it('refuses to overwrite an existing file', async () => {
    const file = path.join(dir, 'f.ome.tif');
    await (await OmeTiffWriter.create(file, { name: 'Cam' })).close();
    const err = await OmeTiffWriter.create(file, { name: 'Cam' }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal('f.ome.tif exists already');
  });

  it('the ome-tiff format records the mock camera through a FrameSource, with its exposure', async () => {
    const file = path.join(dir, 'mock.ome.tif');
    const camera = mockCameraContext(
      file,
      { width: 64, height: 48, fps: 50, exposure_ms: 5, pixel_code: false },
      { pixelSizeUm: 3.45 },
    );
    try {
      const sink = await new OmeTiffFormat().start(camera.context);
      await waitFor(() => sink.stats.framesWritten >= 5, 20_000, '5 frames');
      await sink.stop();
      await sink.ended;
      const stats = sink.stats;
      const r = await readRecording('tiff', file);
      expect(r).to.include({ is_ome: true, pages: stats.framesWritten, dtype: 'uint16' });
      expect(stats.bytesWritten).to.equal((await stat(file)).size);
      const ome = r.ome as Ome;
      expect(ome.pixels).to.include({
        SizeT: String(stats.framesWritten),
        PhysicalSizeX: '3.45',
        SignificantBits: '12',
      });
      expect(new Set(ome.planes.map((p) => p.ExposureTime))).to.deep.equal(new Set(['5']));
      const deltas = ome.planes.map((p) => Number(p.DeltaT));
      expect(deltas[0]).to.equal(0);
      for (let i = 1; i < deltas.length; i++) expect(deltas[i]).to.be.greaterThan(deltas[i - 1]);
      expect(stats.lastTimestamp! - stats.firstTimestamp!).to.equal(
        BigInt(Math.round(deltas[deltas.length - 1] * 1e9)),
      );
    } finally {
      await camera.close();
    }
  });
});
