import { expect } from 'chai';
import { Decoder, Encoder } from '@toondepauw/node-zstd';
import { withContentSize } from '../../src/recording/zstd-frame.js';
import { planarBytes } from '../../src/recording/planar.js';
import { chunkKey, zarrayJson } from '../../src/recording/zarr-metadata.js';

function hex(s: string): number[] {
  return s
    .split(/\s+/)
    .filter(Boolean)
    .map((b) => parseInt(b, 16));
}

describe('zstd frame content size', () => {
  it('declares the size in a new header (4 bytes) before the unchanged blocks', () => {
    const frame = new Uint8Array(hex('28 b5 2f fd 00 48 aa bb cc'));
    const parts = withContentSize(frame, 1000);
    expect([...parts[0]]).to.deep.equal(hex('28 b5 2f fd 80 48 e8 03 00 00'));
    expect([...parts[1]]).to.deep.equal(hex('aa bb cc'));
    expect(parts[1].buffer).to.equal(frame.buffer);
  });

  it('uses 8 bytes from 4 GiB on and keeps a dictionary id', () => {
    const frame = new Uint8Array(hex('28 b5 2f fd 01 48 07 aa'));
    const [header, rest] = withContentSize(frame, 2 ** 32);
    expect([...header]).to.deep.equal(hex('28 b5 2f fd c1 48 07 00 00 00 00 01 00 00 00'));
    expect([...rest]).to.deep.equal([0xaa]);
  });

  it('leaves a frame that has its size alone and refuses what is not zstd', () => {
    const sized = new Uint8Array(hex('28 b5 2f fd 20 10 aa'));
    expect(withContentSize(sized, 16)).to.deep.equal([sized]);
    expect(() => withContentSize(new Uint8Array(8), 1)).to.throw(/not a zstd frame/);
  });

  it('the binding frame, declared, still decodes to the data', async () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff));
    const compressed = await new Encoder(1).encode(data);
    const declared = Buffer.concat(withContentSize(compressed, data.length));
    expect((declared[4] >> 6) & 3).to.equal(2);
    expect((await new Decoder().decode(declared)).equals(data)).to.equal(true);
  });
});

describe('chunk layout', () => {
  it('RGB is de-interleaved into planes; gray is a view of the frame buffer', () => {
    const rgb = new Uint16Array([1, 2, 3, 4, 5, 6]);
    expect([...new Uint16Array(planarBytes(rgb, 2, 3).buffer)]).to.deep.equal([1, 4, 2, 5, 3, 6]);
    const gray = new Uint16Array([7, 8]);
    expect(planarBytes(gray, 2, 1).buffer).to.equal(gray.buffer);
  });

  it('float bit patterns (NaN payloads) survive de-interleaving', () => {
    const bits = new Uint32Array([0x7fc00001, 0xffa00002, 0x3f800000]);
    const out = planarBytes(new Float32Array(bits.buffer), 1, 3);
    expect([...new Uint32Array(out.buffer, out.byteOffset, 3)]).to.deep.equal([...bits]);
  });

  it('.zarray: t, c, y, x with one chunk per frame and nested keys', () => {
    const meta = JSON.parse(
      zarrayJson(
        { width: 4, height: 3, channels: 3, dtype: 'uint16', bitDepth: 12, pixelFormat: 'RGB16' },
        7,
        { id: 'zstd', level: 1 },
      ),
    ) as Record<string, unknown>;
    expect(meta).to.deep.include({
      zarr_format: 2,
      shape: [7, 3, 3, 4],
      chunks: [1, 3, 3, 4],
      dtype: '<u2',
      compressor: { id: 'zstd', level: 1 },
      order: 'C',
      dimension_separator: '/',
    });
    expect(chunkKey(5)).to.equal('0/5/0/0/0');
  });
});
