import { expect } from 'chai';
import sharp from 'sharp';
import type { EncodedUnit, StageMarks } from '../../src/core/stream-worker.js';
import type { Frame } from '../../src/core/frame.js';
import type { FrameSource } from '../../src/core/frame-source.js';
import { createLogger } from '../../src/core/logger.js';
import { parseStreamParams } from '../../src/core/stream-params.js';
import { MjpegParams } from '../../src/protocols/mjpeg/params.js';
import type { MjpegPart } from '../../src/protocols/mjpeg/session.js';
import { MjpegWorker } from '../../src/protocols/mjpeg/worker.js';

/** A 64x32 RGB frame as an MJPEG camera delivers it: decoded pixels plus the camera's JPEG. */
async function cameraFrame(): Promise<Frame> {
  const pixels = new Uint8Array(64 * 32 * 3).map((_, i) => (i * 7) & 0xff);
  const jpeg = await sharp(pixels, { raw: { width: 64, height: 32, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  return {
    data: pixels,
    width: 64,
    height: 32,
    channels: 3,
    dtype: 'uint8',
    bitDepth: 8,
    pixelFormat: 'RGB8',
    frameNumber: 7,
    timestamp: 123n,
    detector: 'Cam',
    metadata: { jpeg },
  };
}

function encode(params: Record<string, unknown>, frame: Frame): Promise<EncodedUnit<MjpegPart>> {
  const p = parseStreamParams(MjpegParams, params, 'params');
  const worker = new MjpegWorker({
    detectorName: 'Cam',
    protocol: 'mjpeg',
    params: p,
    source: {} as FrameSource,
    logger: createLogger('silent'),
  });
  return (
    worker as unknown as {
      encode(f: Frame, p: MjpegParams, m: StageMarks): Promise<EncodedUnit<MjpegPart>>;
    }
  ).encode(frame, p, { mark: () => undefined });
}

describe('MJPEG pass-through of camera JPEGs', () => {
  it('sends the camera JPEG unchanged when no processing is asked', async () => {
    const frame = await cameraFrame();
    const unit = await encode({}, frame);
    expect(unit.data.jpeg.equals(frame.metadata.jpeg as Buffer)).to.equal(true);
    expect(unit.data.head.toString()).to.include('X-Frame-Number: 7');
  });

  it('encodes again when the stream resizes or sets a window', async () => {
    const frame = await cameraFrame();
    for (const params of [
      { subsampling_factor: 2 },
      { max_width: 32 },
      { normalization: 'shift' },
    ]) {
      const unit = await encode(params, frame);
      expect(unit.data.jpeg.equals(frame.metadata.jpeg as Buffer), JSON.stringify(params)).to.equal(
        false,
      );
    }
    const half = await encode({ subsampling_factor: 2 }, frame);
    expect((await sharp(half.data.jpeg).metadata()).width).to.equal(32);
  });
});
