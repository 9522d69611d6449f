import sharp from 'sharp';
import { decodePixelCode } from '../../src/core/pixel-code.js';

/** Decodes a JPEG; throws if it is not a valid one. */
export async function decodeJpeg(
  jpeg: Buffer,
): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** The frame number stamped in a JPEG by the mock detector, or null. */
export async function frameNumberOf(jpeg: Buffer): Promise<number | null> {
  const img = await decodeJpeg(jpeg);
  return decodePixelCode(img.data, img.width, img.height, img.channels)?.frameNumber ?? null;
}
