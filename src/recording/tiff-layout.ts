/**
 * Byte layout of (Big)TIFF headers and image file directories (IFDs), little-endian, without I/O:
 * what the OME-TIFF writer appends, built here so that it can be checked byte by byte.
 */

/** TIFF field types this writer uses (TIFF 6.0 and the BigTIFF extension). */
export const TiffType = { ASCII: 2, SHORT: 3, LONG: 4, LONG8: 16 } as const;
/** A TIFF field type number. */
export type TiffType = (typeof TiffType)[keyof typeof TiffType];

const TYPE_BYTES: Record<TiffType, number> = { 2: 1, 3: 2, 4: 4, 16: 8 };

/** Tag numbers this writer uses. */
export const Tag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  PhotometricInterpretation: 262,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  PlanarConfiguration: 284,
  Software: 305,
  SampleFormat: 339,
} as const;

/** Bytes reserved at the start of the file: room for either header, so a classic file can become a BigTIFF in place. */
export const HEADER_BYTES = 16;

/** Largest offset + 1 a classic TIFF can address (4 GiB). */
export const CLASSIC_LIMIT = 2 ** 32;

/** One IFD entry: a tag, its type and its values (ASCII values are the bytes, NUL included). */
export interface TiffEntry {
  /** Tag number. */
  tag: number;
  /** Field type of the values. */
  type: TiffType;
  /** The values (their count is the entry's count). */
  values: readonly number[] | Uint8Array;
}

/** An IFD encoded at a known file position. */
export interface EncodedIfd {
  /** The IFD, then the values that did not fit in their entries; length a multiple of 8. */
  bytes: Uint8Array;
  /** File position of the IFD's next-IFD offset (0 here: the end of the chain). */
  nextOffsetAt: number;
  /** File position of each entry, by tag. */
  entryAt: Map<number, number>;
}

/** Rounds up to a multiple of 8 (where this writer puts IFDs and pixel data). */
export function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Size of an offset field: 4 bytes in a classic TIFF, 8 in a BigTIFF. */
export function offsetBytes(big: boolean): number {
  return big ? 8 : 4;
}

/** An offset (or count) as the 4 or 8 little-endian bytes of its field. */
export function encodeOffset(value: number, big: boolean): Uint8Array {
  const out = new Uint8Array(offsetBytes(big));
  const view = new DataView(out.buffer);
  if (big) view.setBigUint64(0, BigInt(value), true);
  else view.setUint32(0, checkClassic(value), true);
  return out;
}

/**
 * The file header pointing at the first IFD (0: none yet): `II*\0` + 4-byte offset (classic, 8
 * bytes) or `II+\0`, offset size 8, 0, + 8-byte offset (BigTIFF, 16 bytes).
 */
export function encodeHeader(big: boolean, firstIfd: number): Uint8Array {
  const out = new Uint8Array(big ? 16 : 8);
  const view = new DataView(out.buffer);
  out[0] = out[1] = 0x49; // 'II': little-endian
  view.setUint16(2, big ? 43 : 42, true);
  if (big) {
    view.setUint16(4, 8, true);
    view.setBigUint64(8, BigInt(firstIfd), true);
  } else {
    view.setUint32(4, checkClassic(firstIfd), true);
  }
  return out;
}

/** File position of the header's first-IFD offset. */
export function firstIfdOffsetAt(big: boolean): number {
  return big ? 8 : 4;
}

/**
 * Encodes an IFD that will sit at file position `at` (even): entries sorted by tag, next-IFD
 * offset 0, then the values too long for their entry, each at an even position.
 */
export function encodeIfd(entries: readonly TiffEntry[], at: number, big: boolean): EncodedIfd {
  if (at % 2 !== 0) throw new RangeError('an IFD must start at an even position');
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const countBytes = big ? 8 : 2;
  const entryBytes = big ? 20 : 12;
  const inline = offsetBytes(big);
  const ifdBytes = countBytes + sorted.length * entryBytes + inline;
  let extra = ifdBytes;
  const outOfLine = sorted.map((e) => {
    const size = e.values.length * TYPE_BYTES[e.type];
    if (size <= inline) return -1;
    const pos = extra;
    extra += size + (size % 2);
    return pos;
  });
  const out = new Uint8Array(align8(extra));
  const view = new DataView(out.buffer);
  if (big) view.setBigUint64(0, BigInt(sorted.length), true);
  else view.setUint16(0, sorted.length, true);
  const entryAt = new Map<number, number>();
  sorted.forEach((e, i) => {
    const p = countBytes + i * entryBytes;
    entryAt.set(e.tag, at + p);
    view.setUint16(p, e.tag, true);
    view.setUint16(p + 2, e.type, true);
    if (big) view.setBigUint64(p + 4, BigInt(e.values.length), true);
    else view.setUint32(p + 4, e.values.length, true);
    const valuePos = outOfLine[i] < 0 ? p + 4 + inline : outOfLine[i];
    if (outOfLine[i] >= 0) out.set(encodeOffset(at + outOfLine[i], big), p + 4 + inline);
    writeValues(view, valuePos, e);
  });
  return { bytes: out, nextOffsetAt: at + ifdBytes - inline, entryAt };
}

/**
 * Encodes IFDs placed one after the other from `at`, each pointing at the next: how a classic
 * file's pages are written again as BigTIFF IFDs. The last points at nothing, or with `continued`
 * at the end of the returned bytes, where the next batch of the chain goes.
 */
export function encodeIfdChain(
  pages: readonly (readonly TiffEntry[])[],
  at: number,
  big: boolean,
  continued = false,
): { bytes: Uint8Array; ifds: EncodedIfd[] } {
  const ifds: EncodedIfd[] = [];
  const starts: number[] = [];
  let pos = at;
  for (const entries of pages) {
    const ifd = encodeIfd(entries, pos, big);
    ifds.push(ifd);
    starts.push(pos);
    pos += ifd.bytes.length;
  }
  const out = new Uint8Array(pos - at);
  ifds.forEach((ifd, i) => {
    out.set(ifd.bytes, starts[i] - at);
    const next = i + 1 < ifds.length ? starts[i + 1] : continued ? pos : 0;
    if (next > 0) out.set(encodeOffset(next, big), ifd.nextOffsetAt - at);
  });
  return { bytes: out, ifds };
}

/**
 * The count and value fields of an entry whose values moved to `offset` (`count` values): the
 * bytes to write at the entry's position + 4 (8 bytes classic, 16 BigTIFF), one small write.
 */
export function encodeEntryPointer(count: number, offset: number, big: boolean): Uint8Array {
  const out = new Uint8Array(2 * offsetBytes(big));
  out.set(encodeOffset(count, big), 0);
  out.set(encodeOffset(offset, big), offsetBytes(big));
  return out;
}

/** What every page of a recording shares. */
export interface PageFormat {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 (gray) or 3 (RGB, interleaved). */
  channels: 1 | 3;
  /** Bits per value: 8, 16 or 32. */
  bitsPerSample: 8 | 16 | 32;
  /** 1 = unsigned integer, 3 = IEEE float. */
  sampleFormat: 1 | 3;
}

/** Bytes of one page's pixels. */
export function pageBytes(f: PageFormat): number {
  return f.width * f.height * f.channels * (f.bitsPerSample / 8);
}

/**
 * The entries of one uncompressed, single-strip page whose pixels start at `stripOffset`;
 * `description` (ASCII bytes, NUL included) and `software` go on the first page only.
 */
export function pageEntries(
  f: PageFormat,
  stripOffset: number,
  big: boolean,
  first?: { description: Uint8Array; software: Uint8Array },
): TiffEntry[] {
  const offsetType = big ? TiffType.LONG8 : TiffType.LONG;
  const perSample = (v: number): number[] => new Array<number>(f.channels).fill(v);
  const entries: TiffEntry[] = [
    { tag: Tag.NewSubfileType, type: TiffType.LONG, values: [0] },
    { tag: Tag.ImageWidth, type: TiffType.LONG, values: [f.width] },
    { tag: Tag.ImageLength, type: TiffType.LONG, values: [f.height] },
    { tag: Tag.BitsPerSample, type: TiffType.SHORT, values: perSample(f.bitsPerSample) },
    { tag: Tag.Compression, type: TiffType.SHORT, values: [1] },
    // 1 = BlackIsZero, 2 = RGB.
    {
      tag: Tag.PhotometricInterpretation,
      type: TiffType.SHORT,
      values: [f.channels === 3 ? 2 : 1],
    },
    { tag: Tag.StripOffsets, type: offsetType, values: [stripOffset] },
    { tag: Tag.SamplesPerPixel, type: TiffType.SHORT, values: [f.channels] },
    { tag: Tag.RowsPerStrip, type: TiffType.LONG, values: [f.height] },
    { tag: Tag.StripByteCounts, type: offsetType, values: [pageBytes(f)] },
    // 1 = chunky: samples interleaved, as frames carry them.
    { tag: Tag.PlanarConfiguration, type: TiffType.SHORT, values: [1] },
    { tag: Tag.SampleFormat, type: TiffType.SHORT, values: perSample(f.sampleFormat) },
  ];
  if (first) {
    entries.push({ tag: Tag.ImageDescription, type: TiffType.ASCII, values: first.description });
    entries.push({ tag: Tag.Software, type: TiffType.ASCII, values: first.software });
  }
  return entries;
}

/** A string as the bytes of an ASCII field: UTF-8, NUL-terminated. */
export function asciiField(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function writeValues(view: DataView, pos: number, e: TiffEntry): void {
  e.values.forEach((v, i) => {
    switch (e.type) {
      case TiffType.ASCII:
        view.setUint8(pos + i, v);
        break;
      case TiffType.SHORT:
        view.setUint16(pos + 2 * i, v, true);
        break;
      case TiffType.LONG:
        view.setUint32(pos + 4 * i, checkClassic(v), true);
        break;
      case TiffType.LONG8:
        view.setBigUint64(pos + 8 * i, BigInt(v), true);
        break;
    }
  });
}

function checkClassic(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= CLASSIC_LIMIT) {
    throw new RangeError(`${value} does not fit a classic TIFF's 32-bit field`);
  }
  return value;
}
