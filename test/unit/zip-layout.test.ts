import { expect } from 'chai';
import {
  MAX16,
  MAX32,
  centralDirectory,
  dosDateTime,
  localHeader,
  planZip,
} from '../../src/recording/zip-layout.js';

function hex(s: string): number[] {
  return s
    .split(/\s+/)
    .filter(Boolean)
    .map((b) => parseInt(b, 16));
}

/** 2024-01-02 03:04:06 local time: DOS time 0x1883, date 0x5822. */
const MTIME = new Date(2024, 0, 2, 3, 4, 6);

describe('zip layout', () => {
  it('DOS date and time (local, 2 s steps; before 1980 is 1980-01-01)', () => {
    expect(dosDateTime(MTIME)).to.deep.equal([0x1883, 0x5822]);
    expect(dosDateTime(new Date(1970, 0, 1))).to.deep.equal([0, 0x21]);
  });

  it('a stored member: local header with size and CRC, no data descriptor', () => {
    const plan = planZip([{ name: 'a/b', size: 3, mtime: MTIME }]);
    expect([...localHeader(plan.members[0], 0x352441c2)]).to.deep.equal(
      hex(`
        50 4b 03 04 14 00 00 00 00 00 83 18 22 58
        c2 41 24 35 03 00 00 00 03 00 00 00 03 00 00 00
        61 2f 62`),
    );
    // 33 + 3 data, 49 central entry, 22 end record.
    expect(plan).to.include({ centralOffset: 36, centralSize: 49, zip64: false, size: 107 });
  });

  it('the central directory and end record of a small archive', () => {
    const plan = planZip([{ name: 'a/b', size: 3, mtime: MTIME }]);
    expect([...centralDirectory(plan, [0x352441c2])]).to.deep.equal(
      hex(`
        50 4b 01 02 2d 03 14 00 00 00 00 00 83 18 22 58
        c2 41 24 35 03 00 00 00 03 00 00 00 03 00 00 00
        00 00 00 00 00 00 00 00 a4 81 00 00 00 00
        61 2f 62
        50 4b 05 06 00 00 00 00 01 00 01 00 31 00 00 00 24 00 00 00 00 00`),
    );
  });

  it('a member of 4 GiB or more: ZIP64 extra fields, ZIP64 end record and locator', () => {
    const big = 5 * 2 ** 30;
    const plan = planZip([
      { name: 'big', size: big, mtime: MTIME },
      { name: 'after', size: 1, mtime: MTIME },
    ]);
    expect(plan.zip64).to.equal(true);
    const first = plan.members[0];
    expect(first.zip64).to.equal(true);
    const local = new DataView(localHeader(first, 0).buffer);
    expect(local.getUint16(4, true)).to.equal(45);
    expect(local.getUint32(18, true)).to.equal(MAX32);
    expect(local.getUint16(28, true)).to.equal(20);
    expect(local.getUint16(30 + 3, true)).to.equal(1);
    expect(Number(local.getBigUint64(30 + 3 + 4, true))).to.equal(big);
    // The second member is small but sits past 4 GiB: only its offset goes to the extra field.
    expect(plan.members[1].zip64).to.equal(false);
    expect(plan.members[1].offset).to.equal(first.headerBytes + big);

    const cd = centralDirectory(plan, [1, 2]);
    const v = new DataView(cd.buffer);
    const second = 46 + 3 + 4 + 16; // first entry: name, extra header, two sizes
    expect(v.getUint32(second, true)).to.equal(0x02014b50);
    expect(v.getUint32(second + 20, true)).to.equal(1);
    expect(v.getUint32(second + 42, true)).to.equal(MAX32);
    expect(v.getUint16(second + 30, true)).to.equal(12);
    expect(Number(v.getBigUint64(second + 46 + 5 + 4, true))).to.equal(plan.members[1].offset);

    const end64 = plan.centralSize;
    expect(v.getUint32(end64, true)).to.equal(0x06064b50);
    expect(Number(v.getBigUint64(end64 + 48, true))).to.equal(plan.centralOffset);
    expect(v.getUint32(end64 + 56, true)).to.equal(0x07064b50);
    expect(Number(v.getBigUint64(end64 + 64, true))).to.equal(
      plan.centralOffset + plan.centralSize,
    );
    const end = end64 + 76;
    expect(v.getUint32(end, true)).to.equal(0x06054b50);
    expect(v.getUint32(end + 16, true)).to.equal(MAX32);
    expect(cd.length).to.equal(end + 22);
    expect(plan.size).to.equal(plan.centralOffset + cd.length);
  });

  it('65535 members or more: the ZIP64 end record holds the count', () => {
    const members = Array.from({ length: MAX16 }, (_, i) => ({
      name: `${i}`,
      size: 0,
      mtime: MTIME,
    }));
    const plan = planZip(members);
    expect(plan.zip64).to.equal(true);
    const cd = centralDirectory(plan, new Array<number>(MAX16).fill(0));
    const v = new DataView(cd.buffer);
    expect(Number(v.getBigUint64(plan.centralSize + 32, true))).to.equal(MAX16);
    expect(v.getUint16(cd.length - 22 + 10, true)).to.equal(MAX16);
  });

  it('forced ZIP64 puts sizes and offsets in the extra fields of every member', () => {
    const plan = planZip([{ name: 'a', size: 2, mtime: MTIME }], { forceZip64: true });
    const cd = new DataView(centralDirectory(plan, [0], { forceZip64: true }).buffer);
    expect(cd.getUint32(20, true)).to.equal(MAX32);
    expect(cd.getUint32(42, true)).to.equal(MAX32);
    expect(cd.getUint16(30, true)).to.equal(28);
    expect(plan.size).to.equal(30 + 1 + 20 + 2 + 46 + 1 + 28 + 56 + 20 + 22);
  });

  it('marks UTF-8 names', () => {
    const plan = planZip([{ name: 'µ', size: 0, mtime: MTIME }]);
    expect(new DataView(localHeader(plan.members[0], 0).buffer).getUint16(6, true)).to.equal(0x800);
  });
});
