import sharp from 'sharp';
import {
  StreamWorker,
  type EncodedUnit,
  type Frame,
  type StageMarks,
  type WorkerContext,
} from '../../index.js';
import { partHeader } from './multipart.js';
import type { MjpegParams } from './params.js';
import type { MjpegPart } from './session.js';

// Every frame is new: libvips' operation cache would only hold memory.
sharp.cache(false);

/** Encodes each frame once to JPEG (sharp/libjpeg-turbo) and hands the same bytes to every viewer. */
export class MjpegWorker extends StreamWorker<MjpegParams, MjpegPart> {
  /** libjpeg-turbo runs in libuv's pool: the next frame normalizes meanwhile, two JPEGs use two cores. */
  protected override readonly framesInFlight = 2;

  constructor(context: WorkerContext<MjpegParams>) {
    super(context);
  }

  protected async encode(
    frame: Frame,
    params: MjpegParams,
    marks: StageMarks,
  ): Promise<EncodedUnit<MjpegPart>> {
    const cameraJpeg = passThrough(frame, params);
    if (cameraJpeg) return unitOf(frame, cameraJpeg, frame.width, frame.height);
    const display = this.toDisplay(frame, params, marks);
    let image = sharp(display.data, {
      raw: { width: display.width, height: display.height, channels: display.channels },
    });
    // A gray frame stays a one-channel JPEG: three times less work than an RGB one.
    if (display.channels === 1) image = image.toColourspace('b-w');
    const jpeg = await image
      .jpeg({ quality: params.jpeg_quality, optimiseCoding: false })
      .toBuffer();
    // toDisplay marked the conversion; the multipart header after this is framing (send).
    marks.mark('encode');
    return { ...unitOf(frame, jpeg, display.width, display.height), window: display.window };
  }
}

/**
 * An MJPEG camera's own JPEG (`metadata.jpeg`), when the stream asks for no resizing and the
 * default normalization: sent as the camera made it, not decoded and encoded again.
 */
function passThrough(frame: Frame, params: MjpegParams): Buffer | undefined {
  const jpeg = frame.metadata.jpeg;
  if (!(jpeg instanceof Uint8Array)) return undefined;
  const untouched =
    params.subsampling_factor === 1 &&
    params.max_width === 0 &&
    params.max_height === 0 &&
    params.normalization === 'minmax';
  return untouched ? Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength) : undefined;
}

function unitOf(frame: Frame, jpeg: Buffer, width: number, height: number): EncodedUnit<MjpegPart> {
  const head = partHeader(jpeg.length, {
    'X-Frame-Number': frame.frameNumber,
    'X-Timestamp': frame.timestamp.toString(),
    'X-Detector': encodeURIComponent(frame.detector),
  });
  return {
    data: { head, jpeg },
    frameNumber: frame.frameNumber,
    timestamp: frame.timestamp,
    width,
    height,
  };
}
