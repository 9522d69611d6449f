import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Dtype, Frame, PixelData } from '../../src/core/frame.js';
import { typedArrayFor } from '../../src/core/frame.js';

/** The reader script, in the source tree (tests run from <build>/test/helpers). */
const SCRIPT = fileURLToPath(new URL('../../../test/helpers/read-recording.py', import.meta.url));
/** Debian's python3-tifffile and python3-zarr install for the system Python. */
const PYTHON = process.env.LIVEVIEW_PYTHON ?? '/usr/bin/python3';

const available = new Map<string, boolean>();

/** True if these Python modules import (Debian: python3-tifffile, python3-zarr). */
export function pythonHas(...modules: string[]): boolean {
  const key = modules.join(',');
  if (!available.has(key)) {
    const r = spawnSync(PYTHON, ['-c', `import ${key}`], { stdio: 'ignore', timeout: 30_000 });
    available.set(key, r.status === 0);
  }
  return available.get(key)!;
}

/** What read-recording.py reports (see the script). */
export type ReaderReport = Record<string, unknown> & { hashes: string[] };

/** Reads a recording with tifffile (`tiff`) or zarr-python (`zarr`, `zarr-zip`). */
export function readRecording(
  kind: 'tiff' | 'zarr' | 'zarr-zip',
  file: string,
): Promise<ReaderReport> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [SCRIPT, kind, file],
      { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`read-recording.py ${kind} failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as ReaderReport);
      },
    );
  });
}

/** SHA-256 of a frame's pixels as they are laid out in memory (what the script hashes). */
export function frameHash(frame: Frame): string {
  const d = frame.data;
  const bytes = frame.width * frame.height * frame.channels * d.BYTES_PER_ELEMENT;
  return createHash('sha256')
    .update(new Uint8Array(d.buffer, d.byteOffset, bytes))
    .digest('hex');
}

/** A frame of pseudo-random values covering the dtype's range (no NaN), reproducible from `seed`. */
export function testFrame(
  dtype: Dtype,
  channels: 1 | 3,
  width: number,
  height: number,
  frameNumber: number,
  timestamp: bigint,
  metadata: Record<string, unknown> = {},
): Frame {
  const n = width * height * channels;
  const data: PixelData = typedArrayFor(dtype, n);
  let s = (frameNumber + 1) * 2654435761;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 2246822519) + 0x9e3779b9) >>> 0;
    data[i] = dtype === 'float32' ? (s / 2 ** 32 - 0.5) * 1e6 : s;
  }
  const bits = { uint8: 8, uint16: 12, uint32: 32, float32: 32 }[dtype];
  return {
    data,
    width,
    height,
    channels,
    dtype,
    bitDepth: bits,
    pixelFormat: `test-${dtype}`,
    frameNumber,
    timestamp,
    detector: 'Test',
    metadata,
  };
}
