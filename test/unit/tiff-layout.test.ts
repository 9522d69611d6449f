import { expect } from 'chai';
import {
  CLASSIC_LIMIT,
  Tag,
  TiffType,
  asciiField,
  encodeEntryPointer,
  encodeHeader,
  encodeIfd,
  encodeIfdChain,
  encodeOffset,
  pageEntries,
  type TiffEntry,
} from '../../src/recording/tiff-layout.js';

/** Bytes from a hex string with spaces. */
function hex(s: string): number[] {
  return s
    .split(/\s+/)
    .filter(Boolean)
    .map((b) => parseInt(b, 16));
}

const TWO_ENTRIES: TiffEntry[] = [
  // Given out of order: the IFD sorts them by tag.
  { tag: Tag.BitsPerSample, type: TiffType.SHORT, values: [16, 16, 16] },
  { tag: Tag.ImageWidth, type: TiffType.LONG, values: [2] },
];

describe('TIFF layout', () => {
  it('classic and BigTIFF headers', () => {
    expect([...encodeHeader(false, 8)]).to.deep.equal(hex('49 49 2a 00 08 00 00 00'));
    expect([...encodeHeader(true, 16)]).to.deep.equal(
      hex('49 49 2b 00 08 00 00 00 10 00 00 00 00 00 00 00'),
    );
  });

  it('a classic IFD: sorted entries, a value too long for its entry after the IFD', () => {
    const ifd = encodeIfd(TWO_ENTRIES, 8, false);
    expect([...ifd.bytes]).to.deep.equal(
      hex(`
        02 00
        00 01 04 00 01 00 00 00 02 00 00 00
        02 01 03 00 03 00 00 00 26 00 00 00
        00 00 00 00
        10 00 10 00 10 00
        00 00 00 00`),
    );
    expect(ifd.nextOffsetAt).to.equal(8 + 26);
    expect(ifd.entryAt.get(Tag.ImageWidth)).to.equal(10);
    expect(ifd.entryAt.get(Tag.BitsPerSample)).to.equal(22);
  });

  it('a BigTIFF IFD: 8-byte counts and offsets, up to 8 bytes of values inline', () => {
    const ifd = encodeIfd(TWO_ENTRIES, 16, true);
    expect([...ifd.bytes]).to.deep.equal(
      hex(`
        02 00 00 00 00 00 00 00
        00 01 04 00 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00
        02 01 03 00 03 00 00 00 00 00 00 00 10 00 10 00 10 00 00 00
        00 00 00 00 00 00 00 00`),
    );
    expect(ifd.nextOffsetAt).to.equal(16 + 48);
  });

  it('ASCII values are NUL-terminated and inline when they fit', () => {
    const ifd = encodeIfd(
      [{ tag: Tag.Software, type: TiffType.ASCII, values: asciiField('ab') }],
      0,
      false,
    );
    expect([...ifd.bytes.subarray(0, 18)]).to.deep.equal(
      hex('01 00 31 01 02 00 03 00 00 00 61 62 00 00 00 00 00 00'),
    );
  });

  it('LONG8 strip offsets past 4 GiB in a BigTIFF', () => {
    const ifd = encodeIfd(
      [{ tag: Tag.StripOffsets, type: TiffType.LONG8, values: [2 ** 33 + 5] }],
      0,
      true,
    );
    expect([...ifd.bytes.subarray(8, 28)]).to.deep.equal(
      hex('11 01 10 00 01 00 00 00 00 00 00 00 05 00 00 00 02 00 00 00'),
    );
  });

  it('refuses a classic offset past 4 GiB instead of wrapping it', () => {
    expect(() => encodeOffset(CLASSIC_LIMIT, false)).to.throw(RangeError, /32-bit/);
    expect([...encodeOffset(CLASSIC_LIMIT, true)]).to.deep.equal(hex('00 00 00 00 01 00 00 00'));
  });

  it('a chain links each IFD to the next; continued, the last points past the batch', () => {
    const page = [{ tag: Tag.ImageWidth, type: TiffType.LONG, values: [1] }] as TiffEntry[];
    const chain = encodeIfdChain([page, page], 16, false);
    // Each IFD: 2 + 12 + 4 = 18 bytes, padded to 24.
    expect(chain.bytes.length).to.equal(48);
    const view = new DataView(chain.bytes.buffer);
    expect(view.getUint32(14, true)).to.equal(16 + 24);
    expect(view.getUint32(24 + 14, true)).to.equal(0);
    const continued = encodeIfdChain([page], 16, false, true);
    expect(new DataView(continued.bytes.buffer).getUint32(14, true)).to.equal(16 + 24);
  });

  it('an entry pointer rewrites count and offset in one piece', () => {
    expect([...encodeEntryPointer(300, 0x12345678, false)]).to.deep.equal(
      hex('2c 01 00 00 78 56 34 12'),
    );
    expect([...encodeEntryPointer(300, 2 ** 32, true)]).to.deep.equal(
      hex('2c 01 00 00 00 00 00 00 00 00 00 00 01 00 00 00'),
    );
  });

  it('page entries: RGB float32, chunky, one strip, description and software on the first page', () => {
    const f = {
      width: 3,
      height: 2,
      channels: 3 as const,
      bitsPerSample: 32 as const,
      sampleFormat: 3 as const,
    };
    const entries = pageEntries(f, 16, false, {
      description: asciiField('d'),
      software: asciiField('s'),
    });
    const byTag = new Map(entries.map((e) => [e.tag, [...e.values]]));
    expect(byTag.get(Tag.BitsPerSample)).to.deep.equal([32, 32, 32]);
    expect(byTag.get(Tag.SampleFormat)).to.deep.equal([3, 3, 3]);
    expect(byTag.get(Tag.PhotometricInterpretation)).to.deep.equal([2]);
    expect(byTag.get(Tag.StripByteCounts)).to.deep.equal([3 * 2 * 3 * 4]);
    expect(byTag.get(Tag.RowsPerStrip)).to.deep.equal([2]);
    expect(byTag.get(Tag.PlanarConfiguration)).to.deep.equal([1]);
    expect(byTag.has(Tag.ImageDescription)).to.equal(true);
    const later = pageEntries(f, 16, true);
    expect(later.some((e) => e.tag === Tag.ImageDescription)).to.equal(false);
    expect(later.find((e) => e.tag === Tag.StripOffsets)!.type).to.equal(TiffType.LONG8);
  });
});
