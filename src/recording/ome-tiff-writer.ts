import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Frame, FrameWriter } from '../index.js';
import { writeAll, ioError, ioMessage } from './file-io.js';
import { formatOf, frameMismatch, pixelBytes, type FrameFormat } from './frame-format.js';
import { omeXml } from './ome-xml.js';
import { PlaneLog } from './plane-log.js';
import {
  CLASSIC_LIMIT,
  HEADER_BYTES,
  Tag,
  align8,
  asciiField,
  encodeEntryPointer,
  encodeHeader,
  encodeIfd,
  encodeIfdChain,
  encodeOffset,
  firstIfdOffsetAt,
  pageEntries,
  type PageFormat,
  type TiffEntry,
} from './tiff-layout.js';

/** When an OME-TIFF file is a BigTIFF. */
export type BigTiffMode = 'auto' | 'always';

/** Options of an OmeTiffWriter. */
export interface OmeTiffOptions {
  /** Image name in the OME-XML (the detector's name). */
  name: string;
  /** Pixel size in micrometres, when known (default: not in the metadata). */
  pixelSizeUm?: number;
  /**
   * `auto` (default): a classic TIFF, turned into a BigTIFF in place when the next page (or the
   * OME-XML at the end) would pass 4 GiB; `always`: a BigTIFF from the start.
   */
  bigtiff?: BigTiffMode;
  /** Bytes a classic file may reach before it becomes a BigTIFF (default and most 4 GiB; less only in tests). */
  classicLimit?: number;
}

/** ImageDescription of the first page until the recording ends and its OME-XML is written. */
export const PROVISIONAL_DESCRIPTION =
  'liveview recording; its OME-XML metadata is written when the recording ends';

/** IFDs written per batch when a classic file becomes a BigTIFF. */
const UPGRADE_BATCH = 4096;

/**
 * Writes frames as an OME-TIFF, one uncompressed page per frame at full bit depth. Each page is
 * appended (pixels straight from the frame's buffer, then its IFD) and only then linked from
 * the previous IFD, so the file is a valid TIFF after every whole page: a crash or a full disk
 * leaves it readable up to the last page. The OME-XML goes at the end when the recording closes,
 * and the first page's ImageDescription is pointed at it in one small write.
 */
export class OmeTiffWriter implements FrameWriter {
  private big: boolean;
  private readonly classicLimit: number;
  /** End of the last whole page (or of the OME-XML once written). */
  private end = HEADER_BYTES;
  /** File position of the offset that links the next page's IFD. */
  private linkAt: number;
  /** File position of the first IFD's ImageDescription entry. */
  private descriptionEntryAt = -1;
  private format: FrameFormat | undefined;
  private page: PageFormat | undefined;
  /** Where each page's pixels start (kept to rewrite the IFDs as BigTIFF). */
  private readonly dataOffsets: number[] = [];
  private readonly planes = new PlaneLog();
  /** Set when a page write failed: the tail past `end` is torn and gets cut at close. */
  private broken = false;
  private closing: Promise<void> | undefined;
  private readonly firstPage = {
    description: asciiField(PROVISIONAL_DESCRIPTION),
    software: asciiField('liveview'),
  };

  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
    private readonly options: OmeTiffOptions,
  ) {
    this.big = options.bigtiff === 'always';
    this.classicLimit = Math.min(options.classicLimit ?? CLASSIC_LIMIT, CLASSIC_LIMIT);
    this.linkAt = firstIfdOffsetAt(this.big);
  }

  /** Creates the file (it must not exist) and writes its header. */
  static async create(file: string, options: OmeTiffOptions): Promise<OmeTiffWriter> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'wx');
    } catch (err) {
      throw ioError(err, file);
    }
    const writer = new OmeTiffWriter(file, handle, options);
    try {
      // Room for either header: a classic file can become a BigTIFF without moving anything.
      const header = new Uint8Array(HEADER_BYTES);
      header.set(encodeHeader(writer.big, 0));
      await writeAll(handle, [header], 0);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw ioError(err, file);
    }
    return writer;
  }

  /** Bytes in the file. */
  get bytesWritten(): number {
    return this.end;
  }

  /** Frames in the file. */
  get framesWritten(): number {
    return this.dataOffsets.length;
  }

  /** True once the file is a BigTIFF. */
  get isBigTiff(): boolean {
    return this.big;
  }

  async write(frame: Frame): Promise<void> {
    if (this.closing) throw new Error(`${path.basename(this.file)} is closed`);
    if (this.broken) throw new Error('an earlier write failed');
    this.format ??= formatOf(frame);
    const mismatch = frameMismatch(this.format, frame);
    if (mismatch) throw new Error(mismatch);
    this.page ??= {
      width: frame.width,
      height: frame.height,
      channels: frame.channels,
      bitsPerSample: frame.dtype === 'uint8' ? 8 : frame.dtype === 'uint16' ? 16 : 32,
      sampleFormat: frame.dtype === 'float32' ? 3 : 1,
    };
    try {
      await this.appendPage(pixelBytes(frame), this.page);
    } catch (err) {
      this.broken = true;
      throw ioError(err, this.file);
    }
    this.planes.add(frame);
  }

  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async appendPage(data: Buffer, page: PageFormat): Promise<void> {
    const dataAt = this.end;
    const ifdAt = align8(dataAt + data.length);
    const first = this.dataOffsets.length === 0;
    const entries = pageEntries(page, dataAt, this.big, first ? this.firstPage : undefined);
    const ifd = encodeIfd(entries, ifdAt, this.big);
    if (!this.big && ifdAt + ifd.bytes.length > this.classicLimit) {
      await this.upgrade();
      return this.appendPage(data, page);
    }
    const pad = new Uint8Array(ifdAt - dataAt - data.length);
    await writeAll(this.handle, [data, pad, ifd.bytes], dataAt);
    // The page is on disk: linking it is what adds it to the file.
    await writeAll(this.handle, [encodeOffset(ifdAt, this.big)], this.linkAt);
    this.dataOffsets.push(dataAt);
    if (first) this.descriptionEntryAt = ifd.entryAt.get(Tag.ImageDescription)!;
    this.linkAt = ifd.nextOffsetAt;
    this.end = ifdAt + ifd.bytes.length;
  }

  /**
   * Turns the classic file into a BigTIFF in place: writes every page's IFD again in BigTIFF form
   * after the end, then swaps the header (one 16-byte write) to point at them. Until that write
   * the file is the classic TIFF it was.
   */
  private async upgrade(): Promise<void> {
    const page = this.page;
    let at = this.end;
    let firstIfd = 0;
    let last: { nextOffsetAt: number } | undefined;
    for (let start = 0; start < this.dataOffsets.length; start += UPGRADE_BATCH) {
      const offsets = this.dataOffsets.slice(start, start + UPGRADE_BATCH);
      const pages: TiffEntry[][] = offsets.map((offset, i) =>
        pageEntries(page!, offset, true, start + i === 0 ? this.firstPage : undefined),
      );
      const more = start + UPGRADE_BATCH < this.dataOffsets.length;
      const chain = encodeIfdChain(pages, at, true, more);
      await writeAll(this.handle, [chain.bytes], at);
      if (start === 0) {
        firstIfd = at;
        this.descriptionEntryAt = chain.ifds[0].entryAt.get(Tag.ImageDescription)!;
      }
      last = chain.ifds[chain.ifds.length - 1];
      at += chain.bytes.length;
    }
    await writeAll(this.handle, [encodeHeader(true, firstIfd)], 0);
    this.big = true;
    this.end = at;
    this.linkAt = last ? last.nextOffsetAt : firstIfdOffsetAt(true);
  }

  private async finish(): Promise<void> {
    let failure: unknown;
    try {
      // A torn page past the last whole one only takes space: cut it, which may also make room
      // for the metadata on a full disk.
      if (this.broken) await this.handle.truncate(this.end);
      if (this.dataOffsets.length > 0) await this.writeOmeXml();
    } catch (err) {
      failure = err;
    }
    try {
      await this.handle.close();
    } catch (err) {
      failure ??= err;
    }
    if (failure !== undefined) {
      throw new Error(
        `${ioMessage(failure, this.file)}: the OME-XML metadata could not be written; ` +
          `the file holds the ${this.dataOffsets.length} frames as a plain TIFF`,
      );
    }
  }

  private async writeOmeXml(): Promise<void> {
    const xml = asciiField(
      omeXml({
        name: this.options.name,
        format: this.format!,
        pixelSizeUm: this.options.pixelSizeUm,
        planes: this.planes,
        count: this.dataOffsets.length,
      }),
    );
    if (!this.big && this.end + xml.length > this.classicLimit) await this.upgrade();
    const at = this.end;
    await writeAll(this.handle, [xml], at);
    await writeAll(
      this.handle,
      [encodeEntryPointer(xml.length, at, this.big)],
      this.descriptionEntryAt + 4,
    );
    this.end = at + xml.length;
  }
}
