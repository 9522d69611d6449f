import { expect } from 'chai';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { spawnSync } from 'node:child_process';
import type { Dtype, Frame } from '../../src/core/frame.js';
import {
  OmeZarrFormat,
  OmeZarrWriter,
  chunkCompressor,
  zipDirectory,
  type ZarrCompressorName,
} from '../../src/recording/index.js';
import { mockCameraContext, waitFor } from '../helpers/recording-context.js';
import { frameHash, pythonHas, readRecording, testFrame } from '../helpers/recording-readers.js';

const T0 = 1_700_000_000_000_000_000n;
const DTYPES: Dtype[] = ['uint8', 'uint16', 'uint32', 'float32'];
const COMPRESSORS: ZarrCompressorName[] = ['zstd', 'lz4', 'none'];

function frames(dtype: Dtype, channels: 1 | 3, count: number, width = 33, height = 17): Frame[] {
  return Array.from({ length: count }, (_, i) =>
    testFrame(dtype, channels, width, height, 100 + 2 * i, T0 + BigInt(i) * 40_000_000n, {
      exposure_ms: 10 + i,
    }),
  );
}

async function record(
  dir: string,
  list: Frame[],
  compressor: ZarrCompressorName,
  extra: { pixelSizeUm?: number; inFlight?: number; metadataIntervalMs?: number } = {},
): Promise<OmeZarrWriter> {
  const w = await OmeZarrWriter.create(dir, {
    name: 'Cam',
    compressor: chunkCompressor(compressor, 3),
    ...extra,
  });
  for (const f of list) await w.write(f);
  return w;
}

type Multiscale = {
  version: string;
  axes: { name: string; type: string; unit?: string }[];
  datasets: { path: string; coordinateTransformations: { type: string; scale: number[] }[] }[];
};

describe('OME-Zarr recording (read back with zarr-python)', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    if (!pythonHas('zarr', 'numpy')) this.skip(); // Debian: python3-zarr
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'liveview-zarr-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  DTYPES.forEach((dtype, i) => {
    for (const channels of [1, 3] as const) {
      const compressor = COMPRESSORS[(2 * i + channels) % COMPRESSORS.length];
      it(`${dtype} ${channels === 3 ? 'RGB' : 'gray'} (${compressor}): bit-exact chunks, shape and NGFF metadata`, async () => {
        const store = path.join(dir, 'a.ome.zarr');
        const list = frames(dtype, channels, 4);
        const w = await record(store, list, compressor, { pixelSizeUm: 0.65 });
        await w.close();
        const r = await readRecording('zarr', store);
        expect(r.hashes).to.deep.equal(list.map(frameHash));
        expect(r.shape).to.deep.equal([4, channels, 17, 33]);
        expect(r.chunks).to.deep.equal([1, channels, 17, 33]);
        expect(r.dtype).to.equal(dtype);
        const expectedCompressor = {
          zstd: { id: 'zstd', level: 3 },
          lz4: { id: 'lz4', acceleration: 1 },
          none: null,
        }[compressor];
        expect(r.compressor).to.deep.equal(expectedCompressor);
        const attrs = r.attrs as { multiscales: Multiscale[]; liveview: Record<string, unknown> };
        const ms = attrs.multiscales[0];
        expect(ms.version).to.equal('0.4');
        expect(ms.axes).to.deep.equal([
          { name: 't', type: 'time', unit: 'second' },
          { name: 'c', type: 'channel' },
          { name: 'y', type: 'space', unit: 'micrometer' },
          { name: 'x', type: 'space', unit: 'micrometer' },
        ]);
        expect(ms.datasets).to.deep.equal([
          {
            path: '0',
            coordinateTransformations: [{ type: 'scale', scale: [0.04, 1, 0.65, 0.65] }],
          },
        ]);
        expect(attrs.liveview).to.deep.include({
          frames: 4,
          first_timestamp_ns: T0.toString(),
          delta_t: [0, 0.04, 0.08, 0.12],
          frame_numbers: [100, 102, 104, 106],
          exposure_ms: [10, 11, 12, 13],
          dtype,
        });
        expect(w.bytesWritten).to.be.greaterThan(0);
      });
    }
  });

  it('without a pixel size, y and x have scale 1 and no unit', async () => {
    const store = path.join(dir, 'b.ome.zarr');
    await (await record(store, frames('uint16', 1, 1), 'lz4')).close();
    const r = await readRecording('zarr', store);
    const ms = (r.attrs as { multiscales: Multiscale[] }).multiscales[0];
    expect(ms.axes[3]).to.deep.equal({ name: 'x', type: 'space' });
    expect(ms.datasets[0].coordinateTransformations[0].scale).to.deep.equal([1, 1, 1, 1]);
  });

  it('while recording, the array never lists a frame that is not whole on disk', async () => {
    const store = path.join(dir, 'c.ome.zarr');
    const list = frames('uint16', 1, 12);
    const w = await OmeZarrWriter.create(store, {
      name: 'Cam',
      compressor: chunkCompressor('zstd'),
      metadataIntervalMs: 0,
    });
    for (const f of list.slice(0, 8)) await w.write(f);
    await waitFor(() => w.framesWritten >= 5, 10_000, '5 chunks on disk');
    const during = await readRecording('zarr', store);
    const listed = (during.shape as number[])[0];
    expect(listed).to.be.within(1, 8);
    expect(during.hashes).to.deep.equal(list.slice(0, listed).map(frameHash));
    for (const f of list.slice(8)) await w.write(f);
    await w.close();
    const after = await readRecording('zarr', store);
    expect(after.hashes).to.deep.equal(list.map(frameHash));
  });

  it('a frame of another dtype ends the recording with a clear message', async () => {
    const store = path.join(dir, 'd.ome.zarr');
    const w = await record(store, frames('uint16', 1, 2), 'lz4');
    const err = await w.write(testFrame('uint8', 1, 33, 17, 9, T0)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(
      /^frame 9 is 33x17 uint8 gray, the recording is 33x17 uint16 gray/,
    );
    await w.close();
    expect((await readRecording('zarr', store)).shape).to.deep.equal([2, 1, 17, 33]);
  });

  it('the zip of a recording opens with ZipStore, bit-exact, with its size known in advance', async () => {
    const store = path.join(dir, 'e.ome.zarr');
    const list = frames('uint16', 3, 3);
    await (await record(store, list, 'zstd', { pixelSizeUm: 2 })).close();
    for (const forceZip64 of [false, true]) {
      const zipFile = path.join(dir, `e${forceZip64 ? '64' : ''}.zip`);
      const zip = await zipDirectory(store, { forceZip64 });
      expect(zip.files).to.equal(3 + 3); // .zgroup, .zattrs, 0/.zarray, three chunks
      await pipeline(zip.stream, createWriteStream(zipFile));
      expect((await stat(zipFile)).size).to.equal(zip.size);
      const r = await readRecording('zarr-zip', zipFile);
      expect(r.hashes).to.deep.equal(list.map(frameHash));
      expect(r.attrs).to.deep.equal((await readRecording('zarr', store)).attrs);
      const unzip = spawnSync('unzip', ['-t', zipFile], { encoding: 'utf8' });
      if (unzip.error === undefined) expect(unzip.stdout).to.include('No errors detected');
    }
  });

  it('a zip of a file that changes while it streams fails instead of sending a broken archive', async () => {
    const store = path.join(dir, 'f.ome.zarr');
    await (await record(store, frames('uint8', 1, 2), 'none')).close();
    const zip = await zipDirectory(store);
    await rm(path.join(store, '0', '1'), { recursive: true });
    const err = await pipeline(zip.stream, createWriteStream(path.join(dir, 'f.zip'))).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal('0/1/0/0/0 changed while the recording was being zipped');
  });

  it('the ome-zarr format records the mock camera through a FrameSource', async () => {
    const store = path.join(dir, 'mock.ome.zarr');
    const camera = mockCameraContext(
      store,
      { width: 64, height: 48, fps: 50, exposure_ms: 5, channels: 3, dtype: 'uint8', bit_depth: 8 },
      { params: { compressor: 'zstd', level: 2 }, pixelSizeUm: 1.5 },
    );
    try {
      const sink = await new OmeZarrFormat().start(camera.context);
      await waitFor(() => sink.stats.framesWritten >= 5, 20_000, '5 frames');
      await sink.stop();
      await sink.ended;
      const n = sink.stats.framesWritten;
      const r = await readRecording('zarr', store);
      expect(r.shape).to.deep.equal([n, 3, 48, 64]);
      expect(r.compressor).to.deep.equal({ id: 'zstd', level: 2 });
      const liveview = (r.attrs as { liveview: { exposure_ms: number[]; detector: string } })
        .liveview;
      expect(liveview.detector).to.equal('Mock');
      expect(liveview.exposure_ms).to.deep.equal(new Array<number>(n).fill(5));
      const zarray = JSON.parse(await readFile(path.join(store, '0', '.zarray'), 'utf8')) as {
        shape: number[];
      };
      expect(zarray.shape[0]).to.equal(n);
    } finally {
      await camera.close();
    }
  });
});
