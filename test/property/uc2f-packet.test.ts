import { expect } from 'chai';
import fc from 'fast-check';
import {
  COMPRESSIONS,
  UC2F_PREFIX_BYTES,
  UC2F_TRAILER_BYTES,
  buildPacket,
  parsePacket,
  pixelsOf,
  type Compression,
  type PacketHeader,
  type ParsedPacket,
} from '../../src/protocols/binary/packet.js';
import { describeThrown, outcomeOf, runs } from '../helpers/arbitraries.js';

const header: fc.Arbitrary<Omit<PacketHeader, 'version'>> = fc.record({
  width: fc.nat({ max: 0xffffffff }),
  height: fc.nat({ max: 0xffffffff }),
  stride: fc.nat({ max: 0xffffffff }),
  bitDepth: fc.nat({ max: 0xffff }),
  channels: fc.nat({ max: 0xff }),
  pixelFormat: fc.nat({ max: 0xff }),
  timestamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
});
const compression = fc.constantFrom<Compression>(...COMPRESSIONS);
const frameNumber = fc.oneof(fc.nat(), fc.nat({ max: Number.MAX_SAFE_INTEGER }));

/** A packet as liveview writes it, optionally without its trailer (as ImSwitch sends). */
const validPacket = fc
  .record({
    header,
    payload: fc.uint8Array({ maxLength: 64 }),
    frameNumber,
    compression,
    trailer: fc.boolean(),
  })
  .map((p) => {
    const bytes = buildPacket(p.header, p.payload, p.frameNumber, p.compression);
    return {
      ...p,
      bytes: p.trailer ? bytes : bytes.subarray(0, bytes.length - UC2F_TRAILER_BYTES),
    };
  });

/** One way of damaging a packet. */
type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'size'; value: number }
  | { kind: 'trailerCode'; value: number }
  | { kind: 'offset'; by: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 24 }) }),
  fc.record({
    kind: fc.constant('size' as const),
    value: fc.oneof(fc.nat({ max: 128 }), fc.constantFrom(0xffffffff, 0x7fffffff, 2 ** 31)),
  }),
  fc.record({ kind: fc.constant('trailerCode' as const), value: fc.nat({ max: 2 }) }),
  fc.record({ kind: fc.constant('offset' as const), by: fc.integer({ min: 1, max: 7 }) }),
);

/** Applies mutations; the result may sit at an odd offset inside a larger buffer. */
function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out: Uint8Array = bytes.slice();
  for (const m of mutations) {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    switch (m.kind) {
      case 'set':
        if (out.length > 0) out[m.at % out.length] = m.value;
        break;
      case 'truncate':
        out = out.subarray(0, m.at % (out.length + 1));
        break;
      case 'append': {
        const longer = new Uint8Array(out.length + m.bytes.length);
        longer.set(out);
        longer.set(m.bytes, out.length);
        out = longer;
        break;
      }
      case 'size':
        if (out.length >= UC2F_PREFIX_BYTES) view.setUint32(32, m.value, true);
        break;
      case 'trailerCode': {
        const at = UC2F_PREFIX_BYTES + (out.length >= 36 ? view.getUint32(32, true) : 0) + 12;
        if (at < out.length) out[at] = m.value;
        break;
      }
      case 'offset': {
        const shifted = new Uint8Array(out.length + m.by);
        shifted.set(out, m.by);
        out = shifted.subarray(m.by);
        break;
      }
    }
  }
  return out;
}

/** The header fields as the bytes say, read independently of the decoder. */
function expectConsistent(bytes: Uint8Array, p: ParsedPacket): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect([...bytes.subarray(0, 4)]).to.deep.equal([0x55, 0x43, 0x32, 0x46]);
  expect(p.version).to.equal(1);
  expect(p.width).to.equal(view.getUint32(8, true));
  expect(p.height).to.equal(view.getUint32(12, true));
  expect(p.stride).to.equal(view.getUint32(16, true));
  expect(p.bitDepth).to.equal(view.getUint16(20, true));
  expect(p.channels).to.equal(view.getUint8(22));
  expect(p.pixelFormat).to.equal(view.getUint8(23));
  expect(p.timestamp).to.equal(view.getBigUint64(24, true));
  const size = view.getUint32(32, true);
  const end = UC2F_PREFIX_BYTES + size;
  expect(bytes.length, 'the payload is all there').to.be.at.least(end);
  expect(p.payload.length).to.equal(size);
  expect(p.payload.buffer).to.equal(bytes.buffer);
  expect(p.payload.byteOffset).to.equal(bytes.byteOffset + UC2F_PREFIX_BYTES);
  const trailer =
    bytes.length >= end + UC2F_TRAILER_BYTES &&
    [0x55, 0x43, 0x32, 0x58].every((b, i) => bytes[end + i] === b);
  if (trailer) {
    expect(p.frameNumber).to.equal(Number(view.getBigUint64(end + 4, true)));
    expect(p.compression).to.equal(COMPRESSIONS[view.getUint8(end + 12)]);
  } else {
    expect(p.frameNumber).to.equal(undefined);
    expect(p.compression).to.equal(undefined);
  }
}

/** The contract: a packet consistent with its bytes, or a RangeError that names UC2F. */
function checkParse(bytes: Uint8Array): void {
  const outcome = outcomeOf(() => parsePacket(bytes));
  if (outcome.ok) {
    expectConsistent(bytes, outcome.value);
    checkPixels(outcome.value);
    return;
  }
  expect(outcome.error, describeThrown(outcome.error)).to.be.instanceOf(RangeError);
  expect((outcome.error as Error).message).to.match(/UC2F/);
}

/** pixelsOf on a parsed packet's raw payload: a typed array of width*height*channels, or a RangeError. */
function checkPixels(p: ParsedPacket): void {
  const outcome = outcomeOf(() => pixelsOf(p, p.payload));
  if (outcome.ok) {
    const pixels = outcome.value;
    expect(pixels.byteLength).to.equal(p.payload.length);
    expect(pixels.byteLength).to.equal(p.stride * p.height);
    return;
  }
  expect(outcome.error, describeThrown(outcome.error)).to.be.instanceOf(RangeError);
  expect((outcome.error as Error).message).to.match(/UC2F/);
}

describe('property: UC2F packet decoder (parsePacket)', function () {
  this.timeout(30_000);

  it('arbitrary bytes: a packet consistent with its header, or a RangeError naming UC2F', () => {
    const magicFirst = fc
      .uint8Array({ maxLength: 80 })
      .map((rest) => Uint8Array.from([0x55, 0x43, 0x32, 0x46, 1, ...rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), magicFirst), checkParse),
      runs(1000),
    );
  });

  it('a packet liveview builds reads back exactly', () => {
    fc.assert(
      fc.property(validPacket, (p) => {
        const parsed = parsePacket(p.bytes);
        expect(parsed).to.deep.include({ ...p.header, version: 1 });
        expect([...parsed.payload]).to.deep.equal([...p.payload]);
        expect(parsed.frameNumber).to.equal(p.trailer ? p.frameNumber : undefined);
        expect(parsed.compression).to.equal(p.trailer ? p.compression : undefined);
      }),
      runs(300),
    );
  });

  it('mutated valid packets (bytes changed, truncated, extended, wrong size, unaligned): consistent packet or RangeError', () => {
    fc.assert(
      fc.property(validPacket, fc.array(mutation, { minLength: 1, maxLength: 4 }), (p, ms) =>
        checkParse(mutate(p.bytes, ms)),
      ),
      runs(1000),
    );
  });

  it('valid images of every pixel format decode to the right number of pixels, at any byte offset', () => {
    const formats: [number, number, number][] = [
      [0, 1, 2],
      [1, 1, 2],
      [2, 3, 2],
      [3, 1, 1],
      [4, 3, 1],
      [5, 1, 4],
      [6, 3, 4],
      [7, 1, 4],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...formats),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 7 }),
        ([pixelFormat, channels, bytes], width, height, offset) => {
          const stride = width * channels * bytes;
          const payload = new Uint8Array(stride * height).map((_, i) => i);
          const packet = buildPacket(
            { width, height, stride, bitDepth: 8, channels, pixelFormat, timestamp: 0n },
            payload,
            1,
            'none',
          );
          const shifted = new Uint8Array(packet.length + offset);
          shifted.set(packet, offset);
          const parsed = parsePacket(shifted.subarray(offset));
          const pixels = pixelsOf(parsed, parsed.payload);
          expect(pixels.length).to.equal(width * height * channels);
        },
      ),
      runs(200),
    );
  });

  it('a trailer with an unknown compression code is a RangeError (it was accepted with compression undefined before)', () => {
    // parsePacket (src/protocols/binary/packet.ts, `compression = COMPRESSIONS[view.getUint8(end + 12)]`)
    // returns {frameNumber: n, compression: undefined} for codes 3..255, although the type says
    // compression is undefined only for a packet without trailer; the browser decoder
    // (web/lib-src/uc2f-decoder.js `packet.compression ?? compression`) then silently decodes
    // with the last announced algorithm. Expected: a RangeError naming the unknown code.
    fc.assert(
      fc.property(validPacket, fc.integer({ min: 3, max: 255 }), (p, code) => {
        const bytes = buildPacket(p.header, p.payload, p.frameNumber, p.compression);
        bytes[UC2F_PREFIX_BYTES + p.payload.length + 12] = code;
        const outcome = outcomeOf(() => parsePacket(bytes));
        if (outcome.ok) {
          expect(
            outcome.value.compression,
            `compression code ${code} accepted with frameNumber ${outcome.value.frameNumber}`,
          ).to.be.oneOf([...COMPRESSIONS]);
        } else {
          expect(outcome.error).to.be.instanceOf(RangeError);
        }
      }),
      runs(50),
    );
  });
});
