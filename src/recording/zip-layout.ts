/**
 * Byte layout of a stored (uncompressed) ZIP archive with ZIP64 where sizes or counts need it,
 * without I/O (APPNOTE 6.3). Every member's size is known before the archive is written, so
 * each local header carries its size and CRC (no data descriptors) and the archive's total size
 * is known in advance.
 */

/** The largest value a 32-bit ZIP field holds; it also marks "see the ZIP64 extra field". */
export const MAX32 = 0xffffffff;
/** The largest count a 16-bit ZIP field holds; it also marks "see the ZIP64 end record". */
export const MAX16 = 0xffff;

const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const ZIP64_END = 56;
const ZIP64_LOCATOR = 20;
const END = 22;
const ZIP64_EXTRA_ID = 0x0001;
/** Version 4.5: ZIP64; 2.0 otherwise. */
const VERSION_ZIP64 = 45;
const VERSION_PLAIN = 20;
/** Made by a Unix host (upper byte 3), so the external attributes are Unix permissions. */
const MADE_BY_UNIX = 3 << 8;
/** A regular file, rw-r--r--, in the upper 16 bits of the external attributes. */
const REGULAR_FILE_ATTRS = (0o100644 << 16) >>> 0;
/** General purpose flag bit 11: the name is UTF-8. */
const UTF8_FLAG = 0x0800;

/** A file to store. */
export interface ZipMember {
  /** Path inside the archive, `/`-separated, no leading slash. */
  name: string;
  /** Bytes. */
  size: number;
  /** Modification time (stored as a DOS date, local time, 2 s resolution). */
  mtime: Date;
}

/** A member with its place in the archive. */
export interface PlannedMember extends ZipMember {
  /** The name's UTF-8 bytes. */
  nameBytes: Uint8Array;
  /** Position of its local header. */
  offset: number;
  /** Whether its local header has a ZIP64 extra field (sizes past 32 bits, or forced). */
  zip64: boolean;
  /** Length of its local header. */
  headerBytes: number;
}

/** Where everything goes. */
export interface ZipPlan {
  /** The members in archive order. */
  members: PlannedMember[];
  /** Position of the central directory. */
  centralOffset: number;
  /** Length of the central directory (without the end records). */
  centralSize: number;
  /** Whether the ZIP64 end record and locator are written. */
  zip64: boolean;
  /** Bytes of the whole archive. */
  size: number;
}

/** Options of planZip. */
export interface ZipPlanOptions {
  /** Use the ZIP64 records even where 32-bit fields would do (default false: only when needed). */
  forceZip64?: boolean;
}

/** Places the members one after the other and sizes the central directory and end records. */
export function planZip(members: readonly ZipMember[], options: ZipPlanOptions = {}): ZipPlan {
  const force = options.forceZip64 ?? false;
  let offset = 0;
  const planned = members.map((m): PlannedMember => {
    // Buffer.from takes small names from a shared pool: cheap for 100k chunk names.
    const nameBytes = Buffer.from(m.name, 'utf8');
    if (nameBytes.length > MAX16) throw new RangeError(`member name too long: ${m.name}`);
    const zip64 = force || m.size >= MAX32;
    const headerBytes = LOCAL_HEADER + nameBytes.length + (zip64 ? 20 : 0);
    const p = { name: m.name, size: m.size, mtime: m.mtime, nameBytes, offset, zip64, headerBytes };
    offset += headerBytes + m.size;
    return p;
  });
  const centralSize = planned.reduce((n, m) => n + centralEntryBytes(m, force), 0);
  const zip64 = force || planned.length >= MAX16 || offset >= MAX32 || centralSize >= MAX32;
  const size = offset + centralSize + (zip64 ? ZIP64_END + ZIP64_LOCATOR : 0) + END;
  return { members: planned, centralOffset: offset, centralSize, zip64, size };
}

/** The local header of a member whose data has this CRC-32. */
export function localHeader(m: PlannedMember, crc: number): Uint8Array {
  const out = new Uint8Array(m.headerBytes);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(4, m.zip64 ? VERSION_ZIP64 : VERSION_PLAIN, true);
  v.setUint16(6, flags(m), true);
  v.setUint16(8, 0, true); // method 0: stored
  const [time, date] = dosDateTime(m.mtime);
  v.setUint16(10, time, true);
  v.setUint16(12, date, true);
  v.setUint32(14, crc >>> 0, true);
  v.setUint32(18, m.zip64 ? MAX32 : m.size, true);
  v.setUint32(22, m.zip64 ? MAX32 : m.size, true);
  v.setUint16(26, m.nameBytes.length, true);
  v.setUint16(28, m.zip64 ? 20 : 0, true);
  out.set(m.nameBytes, LOCAL_HEADER);
  if (m.zip64) {
    const e = LOCAL_HEADER + m.nameBytes.length;
    v.setUint16(e, ZIP64_EXTRA_ID, true);
    v.setUint16(e + 2, 16, true);
    v.setBigUint64(e + 4, BigInt(m.size), true); // uncompressed
    v.setBigUint64(e + 12, BigInt(m.size), true); // compressed
  }
  return out;
}

/** The central directory and the end records, given each member's CRC-32 in plan order. */
export function centralDirectory(
  plan: ZipPlan,
  crcs: readonly number[],
  options: ZipPlanOptions = {},
): Uint8Array {
  const force = options.forceZip64 ?? false;
  const tail = (plan.zip64 ? ZIP64_END + ZIP64_LOCATOR : 0) + END;
  const out = new Uint8Array(plan.centralSize + tail);
  const v = new DataView(out.buffer);
  let p = 0;
  plan.members.forEach((m, i) => {
    const big = zip64Fields(m, force);
    v.setUint32(p, 0x02014b50, true);
    v.setUint16(p + 4, MADE_BY_UNIX | VERSION_ZIP64, true);
    v.setUint16(p + 6, big.length > 0 ? VERSION_ZIP64 : VERSION_PLAIN, true);
    v.setUint16(p + 8, flags(m), true);
    v.setUint16(p + 10, 0, true);
    const [time, date] = dosDateTime(m.mtime);
    v.setUint16(p + 12, time, true);
    v.setUint16(p + 14, date, true);
    v.setUint32(p + 16, crcs[i] >>> 0, true);
    v.setUint32(p + 20, big.includes('size') ? MAX32 : m.size, true);
    v.setUint32(p + 24, big.includes('size') ? MAX32 : m.size, true);
    v.setUint16(p + 28, m.nameBytes.length, true);
    v.setUint16(p + 30, big.length > 0 ? 4 + zip64ExtraBytes(big) : 0, true);
    v.setUint16(p + 32, 0, true); // comment
    v.setUint16(p + 34, 0, true); // disk
    v.setUint16(p + 36, 0, true); // internal attributes
    v.setUint32(p + 38, REGULAR_FILE_ATTRS, true);
    v.setUint32(p + 42, big.includes('offset') ? MAX32 : m.offset, true);
    out.set(m.nameBytes, p + CENTRAL_HEADER);
    let e = p + CENTRAL_HEADER + m.nameBytes.length;
    if (big.length > 0) {
      v.setUint16(e, ZIP64_EXTRA_ID, true);
      v.setUint16(e + 2, zip64ExtraBytes(big), true);
      e += 4;
      // The order is fixed: uncompressed size, compressed size, local header offset.
      if (big.includes('size')) {
        v.setBigUint64(e, BigInt(m.size), true);
        v.setBigUint64(e + 8, BigInt(m.size), true);
        e += 16;
      }
      if (big.includes('offset')) {
        v.setBigUint64(e, BigInt(m.offset), true);
        e += 8;
      }
    }
    p = e;
  });
  const count = plan.members.length;
  if (plan.zip64) {
    const end64 = plan.centralOffset + plan.centralSize;
    v.setUint32(p, 0x06064b50, true);
    v.setBigUint64(p + 4, BigInt(ZIP64_END - 12), true);
    v.setUint16(p + 12, MADE_BY_UNIX | VERSION_ZIP64, true);
    v.setUint16(p + 14, VERSION_ZIP64, true);
    v.setUint32(p + 16, 0, true); // this disk
    v.setUint32(p + 20, 0, true); // disk of the central directory
    v.setBigUint64(p + 24, BigInt(count), true);
    v.setBigUint64(p + 32, BigInt(count), true);
    v.setBigUint64(p + 40, BigInt(plan.centralSize), true);
    v.setBigUint64(p + 48, BigInt(plan.centralOffset), true);
    p += ZIP64_END;
    v.setUint32(p, 0x07064b50, true);
    v.setUint32(p + 4, 0, true);
    v.setBigUint64(p + 8, BigInt(end64), true);
    v.setUint32(p + 16, 1, true); // disks
    p += ZIP64_LOCATOR;
  }
  v.setUint32(p, 0x06054b50, true);
  v.setUint16(p + 8, Math.min(count, MAX16), true);
  v.setUint16(p + 10, Math.min(count, MAX16), true);
  v.setUint32(p + 12, Math.min(plan.centralSize, MAX32), true);
  v.setUint32(p + 16, Math.min(plan.centralOffset, MAX32), true);
  return out;
}

/** Which of a member's central directory fields go to its ZIP64 extra field. */
function zip64Fields(m: PlannedMember, force: boolean): ('size' | 'offset')[] {
  const out: ('size' | 'offset')[] = [];
  if (force || m.size >= MAX32) out.push('size');
  if (force || m.offset >= MAX32) out.push('offset');
  return out;
}

function zip64ExtraBytes(fields: readonly ('size' | 'offset')[]): number {
  return (fields.includes('size') ? 16 : 0) + (fields.includes('offset') ? 8 : 0);
}

function centralEntryBytes(m: PlannedMember, force: boolean): number {
  const big = zip64Fields(m, force);
  return CENTRAL_HEADER + m.nameBytes.length + (big.length > 0 ? 4 + zip64ExtraBytes(big) : 0);
}

function flags(m: PlannedMember): number {
  return m.nameBytes.length !== m.name.length ? UTF8_FLAG : 0;
}

/** A date as the DOS [time, date] pair (local time; before 1980 becomes 1980-01-01 00:00). */
export function dosDateTime(d: Date): [time: number, date: number] {
  if (Number.isNaN(d.getTime()) || d.getFullYear() < 1980) return [0, (1 << 5) | 1];
  const year = Math.min(d.getFullYear(), 2107) - 1980;
  const date = (year << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  return [time, date];
}
