import { expect } from 'chai';
import {
  pixelFormatCode,
  pixelFormatInfo,
  pixelFormatName,
  unpackImage,
} from '../../src/plugins/genicam/pixel-formats.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const MONO8 = 0x01080001;
const MONO16 = 0x01100007;
const MONO12_PACKED = 0x010c0006;
const BAYER_RG8 = 0x01080009;

describe('GenICam pixel formats', () => {
  it('names codes and finds codes by name (GigE Vision 1.x aliases too)', () => {
    expect(pixelFormatName(MONO8)).to.equal('Mono8');
    expect(pixelFormatName(0x010c0006)).to.equal('Mono12Packed');
    expect(pixelFormatName(0x010c0047)).to.equal('Mono12p');
    expect(pixelFormatCode('BayerRG8')).to.equal(BAYER_RG8);
    expect(pixelFormatCode('BayerBG12p')).to.equal(0x010c0053);
    expect(pixelFormatCode('RGB8')).to.equal(0x02180014);
    expect(pixelFormatCode('RGB8Packed')).to.equal(0x02180014);
    expect(() => pixelFormatCode('YUV422_8')).to.throw(/'YUV422_8' is not supported/);
  });

  it('describes a format: dtype, channels, bit depth and wire size', () => {
    const m12p = pixelFormatInfo(MONO12_PACKED);
    expect(m12p).to.include({ name: 'Mono12Packed', dtype: 'uint16', channels: 1, bitDepth: 12 });
    expect(m12p.bytesForImage(4, 2)).to.equal(12);
    expect(pixelFormatInfo(0x02180014).bytesForImage(2, 2)).to.equal(12);
    expect(pixelFormatInfo(MONO16)).to.include({ dtype: 'uint16', bitDepth: 16 });
  });

  it('rejects unknown codes, naming the code in hex and the supported formats', () => {
    expect(() => unpackImage(0x02100032, new Uint8Array(8), 2, 2, 0, false)).to.throw(
      /pixel format 0x02100032 is not supported \(supported: Mono8, Mono10, .*RGB8, BGR8, BayerGR8/,
    );
  });

  it('Mono12Packed: 2 pixels in 3 bytes, the middle byte holding both low nibbles', () => {
    const img = unpackImage(MONO12_PACKED, bytes(0xab, 0x3c, 0x12), 2, 1, 0, false);
    expect(img).to.include({ dtype: 'uint16', channels: 1, bitDepth: 12, pixelFormat: 'Mono12' });
    expect([...img.data]).to.deep.equal([0xabc, 0x123]);
  });

  it('Mono10Packed: 2 pixels in 3 bytes, low 2 bits in bits 0-1 and 4-5 of the middle byte', () => {
    const img = unpackImage(0x010c0004, bytes(0xa9, 0x21, 0x56), 2, 1, 0, false);
    expect(img).to.include({ bitDepth: 10, pixelFormat: 'Mono10' });
    expect([...img.data]).to.deep.equal([0x2a5, 0x15a]);
  });

  it('PFNC Mono12p and Mono10p are LSB-first bit streams', () => {
    expect([
      ...unpackImage(0x010c0047, bytes(0xbc, 0x3a, 0x12), 2, 1, 0, false).data,
    ]).to.deep.equal([0xabc, 0x123]);
    const m10p = bytes(0xff, 0x03, 0x50, 0x95, 0xaa);
    expect([...unpackImage(0x010a0046, m10p, 4, 1, 0, false).data]).to.deep.equal([
      0x3ff, 0x000, 0x155, 0x2aa,
    ]);
  });

  it('Mono16 (and Mono10/12) are little-endian 16-bit values', () => {
    const img = unpackImage(MONO16, bytes(0x34, 0x12, 0xff, 0xff), 2, 1, 0, false);
    expect(img).to.include({ dtype: 'uint16', bitDepth: 16, pixelFormat: 'Mono16' });
    expect(img.data).to.be.instanceOf(Uint16Array);
    expect([...img.data]).to.deep.equal([0x1234, 0xffff]);
    expect([...unpackImage(0x01100005, bytes(0xff, 0x0f), 1, 1, 0, false).data]).to.deep.equal([
      4095,
    ]);
    // An odd byte offset cannot be viewed as 16-bit values: copied instead.
    const odd = bytes(0, 0x34, 0x12).subarray(1);
    expect([...unpackImage(MONO16, odd, 1, 1, 0, false).data]).to.deep.equal([0x1234]);
  });

  it('RGB8 is kept, BGR8 swapped to RGB', () => {
    const six = bytes(1, 2, 3, 4, 5, 6);
    const rgb = unpackImage(0x02180014, six, 2, 1, 0, false);
    expect(rgb).to.include({ channels: 3, dtype: 'uint8', bitDepth: 8, pixelFormat: 'RGB8' });
    expect([...rgb.data]).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect([...unpackImage(0x02180015, six, 2, 1, 0, false).data]).to.deep.equal([
      3, 2, 1, 6, 5, 4,
    ]);
  });

  it('skips padding X at the end of each line', () => {
    expect([...unpackImage(MONO8, bytes(1, 2, 9, 3, 4), 2, 2, 1, false).data]).to.deep.equal([
      1, 2, 3, 4,
    ]);
    const m16 = bytes(1, 0, 2, 0, 9, 9, 3, 0, 4, 0, 9, 9);
    expect([...unpackImage(MONO16, m16, 2, 2, 2, false).data]).to.deep.equal([1, 2, 3, 4]);
    const m12 = bytes(0xab, 0x3c, 0x12, 0xee, 0x12, 0x3a, 0xbc, 0xee);
    expect([...unpackImage(MONO12_PACKED, m12, 2, 2, 1, false).data]).to.deep.equal([
      0xabc, 0x123, 0x12a, 0xbc3,
    ]);
    const rgb = bytes(1, 2, 3, 0, 4, 5, 6, 0);
    expect([...unpackImage(0x02180014, rgb, 1, 2, 1, false).data]).to.deep.equal([
      1, 2, 3, 4, 5, 6,
    ]);
  });

  it('refuses data shorter than the geometry needs', () => {
    expect(() => unpackImage(MONO16, new Uint8Array(7), 2, 2, 0, false)).to.throw(
      'Mono16 2x2 needs 8 bytes (line padding 0), got 7',
    );
  });

  it('Bayer without debayering: the raw 1-channel mosaic', () => {
    const img = unpackImage(BAYER_RG8, bytes(10, 20, 30, 40), 2, 2, 0, false);
    expect(img).to.include({ channels: 1, dtype: 'uint8', pixelFormat: 'BayerRG8' });
    expect([...img.data]).to.deep.equal([10, 20, 30, 40]);
    const b12 = unpackImage(0x01100011, bytes(1, 0, 2, 0, 3, 0, 4, 0), 2, 2, 0, false);
    expect(b12).to.include({
      channels: 1,
      dtype: 'uint16',
      bitDepth: 12,
      pixelFormat: 'BayerRG12',
    });
  });

  it('BayerRG8 2x2 debayered: every pixel gets the R, mean G and B of the cell', () => {
    const img = unpackImage(BAYER_RG8, bytes(10, 20, 30, 40), 2, 2, 0, true);
    expect(img).to.include({ channels: 3, dtype: 'uint8', pixelFormat: 'RGB8' });
    expect([...img.data]).to.deep.equal([10, 25, 40, 10, 20, 40, 10, 30, 40, 10, 25, 40]);
    // The same mosaic read as GR: R and B are now the two other cells.
    const gr = unpackImage(0x01080008, bytes(10, 20, 30, 40), 2, 2, 0, true);
    expect([...gr.data.subarray(0, 3)]).to.deep.equal([20, 10, 30]);
  });

  it('BayerRG8 4x4 debayered bilinearly (interior and corner pixels)', () => {
    // v(x, y) = (4y + x)^2
    const mosaic = Uint8Array.from({ length: 16 }, (_, i) => i * i);
    const { data } = unpackImage(BAYER_RG8, mosaic, 4, 4, 0, true);
    const px = (x: number, y: number) => [...data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)];
    // (1,1) is blue: R = mean of the diagonals, G = mean of the 4 neighbours (33.5 → 34).
    expect(px(1, 1)).to.deep.equal([42, 34, 25]);
    // (2,1) is green on a blue row: R from above/below, B from left/right.
    expect(px(2, 1)).to.deep.equal([52, 36, 37]);
    // (0,0) is red, at the corner: the neighbours that exist.
    expect(px(0, 0)).to.deep.equal([0, 9, 25]);
  });

  it('every Bayer order: each colour is the mean of its samples in the 3x3 neighbourhood', () => {
    const [w, h] = [7, 6];
    let seed = 1;
    const mosaic = Uint8Array.from(
      { length: w * h },
      () => (seed = (seed * 75 + 74) % 65537) & 0xff,
    );
    const orders: [string, number, string][] = [
      ['GR', 0x01080008, 'GRBG'],
      ['RG', 0x01080009, 'RGGB'],
      ['GB', 0x0108000a, 'GBRG'],
      ['BG', 0x0108000b, 'BGGR'],
    ];
    for (const [, code, cells] of orders) {
      const colour = (x: number, y: number) => 'RGB'.indexOf(cells[((y & 1) << 1) | (x & 1)]);
      const expected: number[] = [];
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let c = 0; c < 3; c++) {
            if (colour(x, y) === c) {
              expected.push(mosaic[y * w + x]);
              continue;
            }
            const near: number[] = [];
            for (let ny = y - 1; ny <= y + 1; ny++)
              for (let nx = x - 1; nx <= x + 1; nx++)
                if (nx >= 0 && ny >= 0 && nx < w && ny < h && colour(nx, ny) === c)
                  near.push(mosaic[ny * w + nx]);
            expected.push(Math.round(near.reduce((a, b) => a + b, 0) / near.length));
          }
      expect([...unpackImage(code, mosaic, w, h, 0, true).data]).to.deep.equal(expected);
    }
  });

  it('16-bit Bayer debayers to uint16 RGB with the bit depth kept', () => {
    const m = bytes(0xe8, 0x03, 0xd0, 0x07, 0xb8, 0x0b, 0xa0, 0x0f); // 1000 2000 3000 4000
    const img = unpackImage(0x01100011, m, 2, 2, 0, true);
    expect(img).to.include({ channels: 3, dtype: 'uint16', bitDepth: 12, pixelFormat: 'RGB12' });
    expect([...img.data.subarray(0, 3)]).to.deep.equal([1000, 2500, 4000]);
  });
});
