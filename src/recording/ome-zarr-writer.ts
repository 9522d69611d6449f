import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Frame, FrameWriter } from '../index.js';
import type { ChunkCompressor } from './chunk-compressor.js';
import { ioError, ioMessage, writeAll } from './file-io.js';
import { formatOf, frameMismatch, type FrameFormat } from './frame-format.js';
import { planarBytes } from './planar.js';
import { PlaneLog } from './plane-log.js';
import {
  ARRAY_PATH,
  attributesJson,
  chunkKey,
  groupAttributes,
  zarrayJson,
  zgroupJson,
} from './zarr-metadata.js';

/** Options of an OmeZarrWriter. */
export interface OmeZarrOptions {
  /** Image name in the metadata (the detector's name). */
  name: string;
  /** Pixel size in micrometres, when known (default: scale 1 without a unit). */
  pixelSizeUm?: number;
  /** How chunks are compressed. */
  compressor: ChunkCompressor;
  /**
   * Least milliseconds between two metadata updates while recording (default 1000); the
   * interval also grows by 1 ms per 10 frames, so rewriting the per-frame attributes stays a
   * bounded cost in long recordings.
   */
  metadataIntervalMs?: number;
  /** Frames being compressed and written at once (default 3): compression runs in parallel. */
  inFlight?: number;
}

/** Default of `OmeZarrOptions.inFlight`. */
export const DEFAULT_IN_FLIGHT = 3;

/**
 * Writes frames as OME-NGFF 0.4 on Zarr v2: a group with one array `0` (t, c, y, x), one chunk
 * per frame, compressed in libuv's thread pool, a few frames at a time. The array's shape and
 * the per-frame attributes are rewritten (each atomically: temporary file, then rename) at a
 * bounded rate and at close, and never count a frame whose chunk, or any before it, is not
 * whole on disk: a crash or a full disk leaves a valid Zarr of the frames it lists.
 */
export class OmeZarrWriter implements FrameWriter {
  private format: FrameFormat | undefined;
  private readonly planes = new PlaneLog();
  /** Frames accepted (the next chunk's index). */
  private accepted = 0;
  /** Frames whose chunk, and every chunk before, is on disk. */
  private committed = 0;
  /** Chunks on disk past `committed` (an earlier one is still being written). */
  private readonly done = new Set<number>();
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | undefined;
  private failureReported = false;
  private chunkBytes = 0;
  private metaBytes = 0;
  /** Frames the array's shape on disk holds. */
  private listed = 0;
  private lastFlush = 0;
  private flushing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly maxInFlight: number;

  private constructor(
    private readonly dir: string,
    private readonly options: OmeZarrOptions,
  ) {
    this.maxInFlight = Math.max(1, options.inFlight ?? DEFAULT_IN_FLIGHT);
  }

  /** Creates the group's folder (it must not exist) and its `.zgroup`. */
  static async create(dir: string, options: OmeZarrOptions): Promise<OmeZarrWriter> {
    try {
      await mkdir(dir);
    } catch (err) {
      throw ioError(err, dir);
    }
    const writer = new OmeZarrWriter(dir, options);
    try {
      await writer.writeText('.zgroup', zgroupJson());
    } catch (err) {
      throw ioError(err, dir);
    }
    return writer;
  }

  /** Bytes on disk: chunks and metadata. */
  get bytesWritten(): number {
    return this.chunkBytes + this.metaBytes;
  }

  /** Frames whose chunks are whole on disk. */
  get framesWritten(): number {
    return this.committed;
  }

  async write(frame: Frame): Promise<void> {
    if (this.closing) throw new Error(`${path.basename(this.dir)} is closed`);
    this.throwIfFailed();
    if (!this.format) {
      this.format = formatOf(frame);
      await mkdir(path.join(this.dir, ARRAY_PATH)).catch((err) => {
        throw ioError(err, this.dir);
      });
      await this.flushMetadata().catch((err) => {
        throw ioError(err, this.dir);
      });
    }
    const mismatch = frameMismatch(this.format, frame);
    if (mismatch) throw new Error(mismatch);
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const t = this.accepted++;
    this.planes.add(frame);
    const task: Promise<void> = this.writeChunk(t, frame).then(
      () => this.chunkDone(t),
      (err) => {
        this.failure ??= ioError(err, this.dir);
      },
    );
    const tracked = task.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private throwIfFailed(): void {
    if (!this.failure) return;
    this.failureReported = true;
    throw this.failure;
  }

  private async writeChunk(t: number, frame: Frame): Promise<void> {
    const bytes = planarBytes(frame.data, frame.width * frame.height, frame.channels);
    const parts = await this.options.compressor.compress(bytes);
    const file = path.join(this.dir, chunkKey(t));
    await mkdir(path.dirname(file), { recursive: true });
    const handle = await open(file, 'w');
    try {
      // Added after the await: `x += await y` would add to a value read before other chunks'.
      const written = await writeAll(handle, parts, 0);
      this.chunkBytes += written;
    } finally {
      await handle.close();
    }
  }

  private chunkDone(t: number): void {
    this.done.add(t);
    while (this.done.delete(this.committed)) this.committed++;
    const interval = Math.max(this.options.metadataIntervalMs ?? 1000, this.committed / 10);
    if (this.flushing || this.closing || this.committed === this.listed) return;
    if (performance.now() - this.lastFlush < interval) return;
    this.flushing = this.flushMetadata()
      .catch((err) => {
        this.failure ??= ioError(err, this.dir);
      })
      .finally(() => (this.flushing = undefined));
  }

  /** Writes `.zattrs`, then `.zarray`, for the frames committed now. */
  private async flushMetadata(): Promise<void> {
    const count = this.committed;
    const format = this.format!;
    this.lastFlush = performance.now();
    const attrs = attributesJson(
      groupAttributes({
        name: this.options.name,
        format,
        pixelSizeUm: this.options.pixelSizeUm,
        planes: this.planes,
        count,
      }),
    );
    const zarray = zarrayJson(format, count, this.options.compressor.config);
    await this.replaceText('.zattrs', attrs);
    await this.replaceText(`${ARRAY_PATH}/.zarray`, zarray);
    this.listed = count;
    this.metaBytes = zgroupJson().length + Buffer.byteLength(attrs) + zarray.length;
  }

  private async finish(): Promise<void> {
    await Promise.all(this.inFlight);
    await this.flushing;
    if (this.failure) {
      // Chunks past the last whole frame are outside the shape: removing them frees the disk.
      for (let t = this.committed; t < this.accepted; t++) {
        await rm(path.join(this.dir, ARRAY_PATH, String(t)), { recursive: true, force: true });
      }
    }
    let metaFailure: unknown;
    if (this.format) {
      await this.flushMetadata().catch((err) => (metaFailure = err));
    }
    if (this.failure && !this.failureReported) {
      this.failureReported = true;
      throw this.failure;
    }
    if (metaFailure !== undefined) {
      throw new Error(
        `${ioMessage(metaFailure, this.dir)}: the metadata could not be brought up to date; ` +
          `the recording holds the ${this.listed} frames it lists`,
      );
    }
  }

  private async writeText(key: string, text: string): Promise<void> {
    await writeFile(path.join(this.dir, key), text, { flag: 'wx' });
  }

  /** Replaces a metadata file atomically: a crash leaves the old or the new one, whole. */
  private async replaceText(key: string, text: string): Promise<void> {
    const file = path.join(this.dir, key);
    const temp = `${file}.partial`;
    try {
      await writeFile(temp, text);
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
  }
}
