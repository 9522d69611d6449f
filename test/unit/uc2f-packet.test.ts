import { expect } from 'chai';
import {
  PIXEL_FORMATS,
  UC2F_PREFIX_BYTES,
  buildPacket,
  dtypeOfPixelFormat,
  parsePacket,
  pixelFormatCode,
  pixelsOf,
  strideOf,
} from '../../src/protocols/binary/packet.js';

/** A 3x2 uint16 gray frame written byte by byte after ImSwitch's `<4sB3xIIIHBBQ` + `<I` layout. */
function handWrittenPacket(): Uint8Array {
  // prettier-ignore
  return Uint8Array.from([
    0x55, 0x43, 0x32, 0x46,             // 'UC2F'
    0x01, 0x00, 0x00, 0x00,             // version 1, 3 padding bytes
    0x03, 0x00, 0x00, 0x00,             // width 3
    0x02, 0x00, 0x00, 0x00,             // height 2
    0x06, 0x00, 0x00, 0x00,             // stride 6 bytes
    0x0c, 0x00,                         // bit depth 12
    0x01,                               // channels 1
    0x00,                               // pixel format GRAY16
    0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0x0c, // timestamp 0x0cba987654321000 ns
    0x0c, 0x00, 0x00, 0x00,             // payload size 12
    0x01, 0x00, 0x02, 0x00, 0xff, 0x0f, // row 0: 1, 2, 4095
    0x00, 0x00, 0x34, 0x12, 0x00, 0x08, // row 1: 0, 0x1234, 2048
  ]);
}

describe('UC2F packet codec', () => {
  it('reads a packet written by hand after the UC2F layout (no trailer, as ImSwitch sends)', () => {
    const p = parsePacket(handWrittenPacket());
    expect(p).to.deep.include({
      version: 1,
      width: 3,
      height: 2,
      stride: 6,
      bitDepth: 12,
      channels: 1,
      pixelFormat: PIXEL_FORMATS.GRAY16,
      timestamp: 0x0cba987654321000n,
      frameNumber: undefined,
      compression: undefined,
    });
    expect([...pixelsOf(p, p.payload)]).to.deep.equal([1, 2, 4095, 0, 0x1234, 2048]);
  });

  it('writes exactly the hand-written bytes, then the UC2X trailer', () => {
    const pixels = Uint16Array.from([1, 2, 4095, 0, 0x1234, 2048]);
    const packet = buildPacket(
      {
        width: 3,
        height: 2,
        stride: 6,
        bitDepth: 12,
        channels: 1,
        pixelFormat: 0,
        timestamp: 0x0cba987654321000n,
      },
      new Uint8Array(pixels.buffer),
      0x01020304,
      'zstd',
    );
    const expected = handWrittenPacket();
    expect([...packet.subarray(0, expected.length)]).to.deep.equal([...expected]);
    // prettier-ignore
    expect([...packet.subarray(expected.length)]).to.deep.equal([
      0x55, 0x43, 0x32, 0x58,                         // 'UC2X'
      0x04, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, // frame number u64
      0x02,                                           // compression: zstd
      0x00, 0x00, 0x00,                               // reserved
    ]);
  });

  it('round-trips header, frame number and compression', () => {
    const payload = Uint8Array.from([9, 8, 7]);
    const header = {
      width: 1,
      height: 1,
      stride: 3,
      bitDepth: 8,
      channels: 3,
      pixelFormat: PIXEL_FORMATS.RGB24,
      timestamp: 123n,
    };
    const p = parsePacket(buildPacket(header, payload, 2 ** 40, 'lz4'));
    expect(p).to.deep.include({ ...header, version: 1, frameNumber: 2 ** 40, compression: 'lz4' });
    expect([...p.payload]).to.deep.equal([9, 8, 7]);
  });

  it('maps dtypes and channels to pixel format codes and back', () => {
    const cases: [Parameters<typeof pixelFormatCode>[0], number, number][] = [
      ['uint16', 1, 0],
      ['uint16', 3, 2],
      ['uint8', 1, 3],
      ['uint8', 3, 4],
      ['float32', 1, 5],
      ['float32', 3, 6],
      ['uint32', 1, 7],
    ];
    for (const [dtype, channels, code] of cases) {
      expect(pixelFormatCode(dtype, channels), `${dtype}/${channels}`).to.equal(code);
      expect(dtypeOfPixelFormat(code)).to.deep.equal({ dtype, channels });
    }
    expect(() => pixelFormatCode('uint32', 3)).to.throw('no pixel format for 3-channel uint32');
    expect(strideOf(10, 3, 'uint16')).to.equal(60);
  });

  it('views float32 payloads bit-exact, also at an odd byte offset', () => {
    const values = Float32Array.from([0.5, -1.25, 3.4028234663852886e38, Number.NaN]);
    const bytes = new Uint8Array(values.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const header = { pixelFormat: PIXEL_FORMATS.GRAY32F, width: 4, height: 1, stride: 16 };
    const out = pixelsOf(header, shifted.subarray(1));
    expect(out).to.be.instanceOf(Float32Array);
    expect(Buffer.from(out.buffer, out.byteOffset, 16).equals(Buffer.from(bytes))).to.equal(true);
  });

  it('views a Node Buffer at an odd byte offset too (its slice() is a view, not a copy)', () => {
    const values = Uint16Array.from([1, 2, 0xfffe, 0x1234]);
    const shifted = Buffer.alloc(9);
    Buffer.from(values.buffer).copy(shifted, 1);
    const header = { pixelFormat: PIXEL_FORMATS.GRAY16, width: 4, height: 1, stride: 8 };
    expect([...pixelsOf(header, shifted.subarray(1))]).to.deep.equal([1, 2, 0xfffe, 0x1234]);
  });

  it('rejects malformed packets with a reason', () => {
    const good = handWrittenPacket();
    expect(() => parsePacket(good.subarray(0, 20))).to.throw('too short: 20 bytes');
    const badMagic = good.slice();
    badMagic[0] = 0x58;
    expect(() => parsePacket(badMagic)).to.throw('bad magic');
    const badVersion = good.slice();
    badVersion[4] = 2;
    expect(() => parsePacket(badVersion)).to.throw('unsupported UC2F version 2');
    expect(() => parsePacket(good.subarray(0, UC2F_PREFIX_BYTES + 5))).to.throw(
      'payload of 12 bytes, 5 present',
    );
    const p = parsePacket(good);
    expect(() => pixelsOf({ ...p, stride: 8 }, p.payload)).to.throw('stride 8 differs from 6');
    expect(() => pixelsOf(p, p.payload.subarray(0, 10))).to.throw('has 10 bytes');
  });
});
