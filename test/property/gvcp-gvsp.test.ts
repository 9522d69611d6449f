import { expect } from 'chai';
import fc from 'fast-check';
import {
  decodeAck,
  decodeDeviceIdentity,
  pendingAckMs,
  readMemoryResult,
  readRegistersResult,
} from '../../src/plugins/genicam/gvcp.js';
import {
  GVSP_EXTENDED_HEADER_BYTES,
  GVSP_HEADER_BYTES,
  decodeGvsp,
  encodeGvspLeader,
  encodeGvspPayload,
  encodeGvspTrailer,
  gvspHeaderScratch,
  readGvspHeader,
  type GvspPacket,
} from '../../src/plugins/genicam/gvsp.js';
import { describeThrown, outcomeOf, runs } from '../helpers/arbitraries.js';

const u8 = fc.nat({ max: 0xff });
const u16 = fc.nat({ max: 0xffff });
const u32 = fc.nat({ max: 0xffffffff });

/** Bytes at an arbitrary offset inside a larger buffer (decoders must honour byteOffset). */
function unaligned(bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(bytes, fc.integer({ min: 0, max: 5 })).map(([b, off]) => {
    const big = new Uint8Array(b.length + off + 3).fill(0xee);
    big.set(b, off);
    return big.subarray(off, off + b.length);
  });
}

/** Overwrites, truncates or extends a packet. */
const damage = fc.oneof(
  fc.record({ at: fc.nat(), value: u8 }).map((d) => (b: Uint8Array) => {
    const out = b.slice();
    if (out.length > 0) out[d.at % out.length] = d.value;
    return out;
  }),
  fc.nat().map((n) => (b: Uint8Array) => b.slice(0, n % (b.length + 1))),
  fc.uint8Array({ maxLength: 16 }).map((extra) => (b: Uint8Array) => {
    const out = new Uint8Array(b.length + extra.length);
    out.set(b);
    out.set(extra, b.length);
    return out;
  }),
);

function expectUint(v: unknown, bits: number, what: string): void {
  expect(Number.isInteger(v), `${what} = ${String(v)} is an integer`).to.equal(true);
  expect(v as number, what).to.be.within(0, 2 ** bits - 1);
}

/** Clean error: a plain Error whose message names the format (not a DataView RangeError or TypeError). */
function expectCleanError(err: unknown, name: RegExp): void {
  expect(err, describeThrown(err)).to.be.instanceOf(Error);
  expect((err as Error).constructor, describeThrown(err)).to.equal(Error);
  expect((err as Error).message).to.match(name);
}

function checkAck(bytes: Uint8Array): void {
  const outcome = outcomeOf(() => decodeAck(bytes));
  if (!outcome.ok) {
    expectCleanError(outcome.error, /^GVCP acknowledge/);
    return;
  }
  const ack = outcome.value;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(ack.status).to.equal(view.getUint16(0));
  expect(ack.ack).to.equal(view.getUint16(2));
  expect(ack.id).to.equal(view.getUint16(6));
  expect(ack.payload.length).to.equal(view.getUint16(4));
  expect([...ack.payload]).to.deep.equal([...bytes.subarray(8, 8 + ack.payload.length)]);
  // The readers of an acknowledge's payload never throw and return values in range.
  const registers = readRegistersResult(ack);
  expect(registers.length).to.equal(Math.floor(ack.payload.length / 4));
  registers.forEach((r, i) => expectUint(r, 32, `register ${i}`));
  expect(readMemoryResult(ack).length).to.equal(Math.max(0, ack.payload.length - 4));
  expectUint(pendingAckMs(ack), 16, 'pending ms');
}

/** Independent header reads, to compare with what the decoder says. */
function expectGvspConsistent(bytes: Uint8Array, p: GvspPacket): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const extended = (bytes[4] & 0x80) !== 0;
  const headerBytes = extended ? GVSP_EXTENDED_HEADER_BYTES : GVSP_HEADER_BYTES;
  expect(bytes.length).to.be.at.least(headerBytes);
  expect(p.extendedIds).to.equal(extended);
  expect(p.status).to.equal(view.getUint16(0));
  expect(p.format).to.equal(bytes[4] & 0x7f);
  if (extended) {
    expect(p.blockId).to.equal(view.getBigUint64(8));
    expect(p.packetId).to.equal(view.getUint32(16));
  } else {
    expect(p.blockId).to.equal(BigInt(view.getUint16(2)));
    expect(p.packetId).to.equal(view.getUint32(4) & 0xffffff);
  }
  const data = headerBytes;
  switch (p.kind) {
    case 'leader':
      expect(p.format).to.equal(1);
      expectUint(p.payloadType, 16, 'payloadType');
      expect(p.timestamp).to.equal(view.getBigUint64(data + 4));
      if (p.image) {
        for (const [k, v] of Object.entries(p.image)) {
          expectUint(v, k.startsWith('padding') ? 16 : 32, k);
        }
        expect(p.image.width).to.equal(view.getUint32(data + 16));
        expect(p.image.height).to.equal(view.getUint32(data + 20));
      }
      break;
    case 'trailer':
      expect(p.format).to.equal(2);
      expectUint(p.payloadType, 16, 'payloadType');
      if (p.sizeY !== undefined) expect(p.sizeY).to.equal(view.getUint32(data + 4));
      break;
    case 'payload':
    case 'other':
      expect(p.data.length).to.equal(bytes.length - headerBytes);
      expect(p.data.byteOffset).to.equal(bytes.byteOffset + headerBytes);
      break;
  }
}

function checkGvsp(bytes: Uint8Array): void {
  const outcome = outcomeOf(() => decodeGvsp(bytes));
  // The allocation-free header reader agrees with the decoder.
  const scratch = gvspHeaderScratch();
  const headerOk = readGvspHeader(bytes, scratch);
  if (!outcome.ok) {
    expectCleanError(outcome.error, /^GVSP /);
    return;
  }
  const p = outcome.value;
  expectGvspConsistent(bytes, p);
  expect(headerOk).to.equal(true);
  expect(scratch.status).to.equal(p.status);
  expect(scratch.packetId).to.equal(p.packetId);
  expect(scratch.format).to.equal(p.format);
  expect(BigInt(scratch.blockId)).to.equal(
    p.blockId < 2n ** 53n ? p.blockId : BigInt(Number(p.blockId)),
  );
}

const leaderFields = fc.record({
  blockId: fc.integer({ min: 1, max: 0xffff }),
  extendedIds: fc.boolean(),
  status: u16,
  pixelFormat: u32,
  width: u32,
  height: u32,
  offsetX: u32,
  offsetY: u32,
  paddingX: u16,
  paddingY: u16,
  timestamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  payloadType: fc.constantFrom(0x0001, 0x4001, 0x0002, 0x8001),
});

const gvspPacket = fc.oneof(
  leaderFields.map((f) => encodeGvspLeader(f)),
  fc
    .record({
      blockId: fc.integer({ min: 1, max: 0xffff }),
      extendedIds: fc.boolean(),
      packetId: fc.integer({ min: 1, max: 0xffffff }),
      data: fc.uint8Array({ maxLength: 48 }),
    })
    .map((f) => encodeGvspPayload(f, f.data)),
  fc
    .record({
      blockId: fc.integer({ min: 1, max: 0xffff }),
      extendedIds: fc.boolean(),
      packetId: fc.integer({ min: 1, max: 0xffffff }),
      sizeY: u32,
    })
    .map((f) => encodeGvspTrailer(f)),
);

describe('property: GVCP and GVSP packet decoders', function () {
  this.timeout(30_000);

  it('GVCP decodeAck, arbitrary bytes: an acknowledge consistent with its header, or a clean Error', () => {
    const ackLike = fc
      .tuple(u16, u16, u16, u16, fc.uint8Array({ maxLength: 40 }))
      .map(([status, ack, length, id, payload]) => {
        const b = new Uint8Array(8 + payload.length);
        const v = new DataView(b.buffer);
        v.setUint16(0, status);
        v.setUint16(2, ack);
        v.setUint16(4, length % 48);
        v.setUint16(6, id);
        b.set(payload, 8);
        return b;
      });
    fc.assert(
      fc.property(unaligned(fc.oneof(fc.uint8Array({ maxLength: 64 }), ackLike)), checkAck),
      runs(1000),
    );
  });

  it('GVCP decodeDeviceIdentity, arbitrary bytes: strings and dotted addresses, or a clean Error', () => {
    fc.assert(
      fc.property(
        unaligned(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc.uint8Array({ minLength: 248, maxLength: 260 }),
          ),
        ),
        (bytes) => {
          const outcome = outcomeOf(() => decodeDeviceIdentity(bytes));
          if (!outcome.ok) {
            expectCleanError(outcome.error, /^discovery data too short/);
            return;
          }
          const id = outcome.value;
          for (const k of ['vendor', 'model', 'version', 'serial', 'userName'] as const) {
            expect(id[k]).to.be.a('string');
          }
          expect(id.ip).to.match(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
          expect(id.mac).to.match(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
          expect(id.gevVersion).to.match(/^\d+\.\d+$/);
        },
      ),
      runs(500),
    );
  });

  it('GVSP decodeGvsp, arbitrary bytes: a packet consistent with its header, or a clean Error', () => {
    fc.assert(fc.property(unaligned(fc.uint8Array({ maxLength: 80 })), checkGvsp), runs(1000));
  });

  it('GVSP: packets the encoders build decode consistently, and damaged ones decode consistently or fail cleanly', () => {
    fc.assert(
      fc.property(unaligned(gvspPacket), fc.array(damage, { maxLength: 3 }), (packet, damages) => {
        checkGvsp(packet);
        checkGvsp(damages.reduce((b, d) => d(b), packet));
      }),
      runs(1000),
    );
  });

  it('GVSP: an image leader reads back the fields it was built with', () => {
    fc.assert(
      fc.property(leaderFields, (f) => {
        const p = decodeGvsp(encodeGvspLeader(f));
        expect(p.kind).to.equal('leader');
        if (p.kind !== 'leader') return;
        expect(p.status).to.equal(f.status);
        expect(p.blockId).to.equal(BigInt(f.blockId));
        expect(p.timestamp).to.equal(f.timestamp);
        expect(p.payloadType).to.equal(f.payloadType);
        if ((f.payloadType & 0x3fff) === 1) {
          expect(p.image).to.deep.equal({
            pixelFormat: f.pixelFormat,
            width: f.width,
            height: f.height,
            offsetX: f.offsetX,
            offsetY: f.offsetY,
            paddingX: f.paddingX,
            paddingY: f.paddingY,
          });
        } else expect(p.image).to.equal(null);
      }),
      runs(300),
    );
  });
});
