import { expect } from 'chai';
import { controlKey, fourcc, fourccName, VIDIOC } from '../../src/plugins/v4l2/abi.js';
import { convertFrame } from '../../src/plugins/v4l2/convert.js';

const g = (width: number, height: number, bytesPerLine: number) => ({
  width,
  height,
  bytesPerLine,
});

describe('V4L2 format conversion', () => {
  it('YUYV to gray keeps the luma; to RGB gives black and white', () => {
    const yuyv = Uint8Array.from([16, 128, 235, 128]);
    expect([...convertFrame('YUYV', yuyv, g(2, 1, 4), 'gray').data]).to.deep.equal([16, 235]);
    expect([...convertFrame('YUYV', yuyv, g(2, 1, 4), 'rgb').data]).to.deep.equal([
      0, 0, 0, 255, 255, 255,
    ]);
  });

  it('UYVY has the same pixels in another order; BT.601 red is (255, 0, 0)', () => {
    const uyvy = Uint8Array.from([90, 81, 240, 81]);
    const c = convertFrame('UYVY', uyvy, g(2, 1, 4), 'rgb');
    expect(c).to.include({ channels: 3, dtype: 'uint8', bitDepth: 8 });
    expect([...c.data]).to.deep.equal([255, 0, 0, 255, 0, 0]);
  });

  it('skips the padding at the end of each row (bytesperline)', () => {
    const yuyv = Uint8Array.from([1, 128, 2, 128, 9, 9, 9, 9, 3, 128, 4, 128, 9, 9, 9, 9]);
    expect([...convertFrame('YUYV', yuyv, g(2, 2, 8), 'gray').data]).to.deep.equal([1, 2, 3, 4]);
    const grey = Uint8Array.from([5, 6, 0, 7, 8, 0]);
    expect([...convertFrame('GREY', grey, g(2, 2, 3), 'gray').data]).to.deep.equal([5, 6, 7, 8]);
  });

  it('Y16, Y12 and Y10 become uint16 frames with their bit depth', () => {
    const y16 = Uint8Array.from([0x34, 0x12, 0xff, 0xff]);
    const c = convertFrame('Y16 ', y16, g(2, 1, 4), 'gray');
    expect(c).to.include({ dtype: 'uint16', bitDepth: 16, channels: 1 });
    expect([...c.data]).to.deep.equal([0x1234, 0xffff]);
    expect(convertFrame('Y12 ', Uint8Array.from([0xff, 0x0f]), g(1, 1, 2), 'gray')).to.deep.include(
      { bitDepth: 12 },
    );
    expect([
      ...convertFrame('Y10 ', Uint8Array.from([0xff, 0x03]), g(1, 1, 2), 'gray').data,
    ]).to.deep.equal([1023]);
  });

  it('NV12: luma plane, then half-resolution interleaved chroma', () => {
    const nv12 = Uint8Array.from([16, 235, 81, 81, 90, 240]);
    expect([...convertFrame('NV12', nv12, g(2, 2, 2), 'gray').data]).to.deep.equal([
      16, 235, 81, 81,
    ]);
    const rgb = convertFrame('NV12', nv12, g(2, 2, 2), 'rgb').data;
    expect([...rgb.subarray(6, 12)]).to.deep.equal([255, 0, 0, 255, 0, 0]);
    expect([...rgb.subarray(0, 3)]).to.deep.equal([179, 0, 0]);
  });

  it('RGB24 is copied and BGR24 swapped', () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    expect([...convertFrame('RGB3', bytes, g(2, 1, 6), 'rgb').data]).to.deep.equal([
      1, 2, 3, 4, 5, 6,
    ]);
    expect([...convertFrame('BGR3', bytes, g(2, 1, 6), 'rgb').data]).to.deep.equal([
      3, 2, 1, 6, 5, 4,
    ]);
  });

  it('names unsupported formats and lists the supported ones', () => {
    expect(() => convertFrame('BA81', new Uint8Array(4), g(2, 2, 2), 'rgb')).to.throw(
      "pixel format 'BA81' is not supported (supported: YUYV, UYVY, GREY, Y10, Y12, Y16, NV12, RGB3, BGR3, MJPG)",
    );
  });
});

describe('V4L2 ABI helpers', () => {
  it('computes ioctl numbers as videodev2.h does on 64-bit Linux', () => {
    expect(VIDIOC.QUERYCAP.toString(16)).to.equal('80685600');
    expect(VIDIOC.S_FMT.toString(16)).to.equal('c0d05605');
    expect(VIDIOC.DQBUF.toString(16)).to.equal('c0585611');
    expect(VIDIOC.STREAMON.toString(16)).to.equal('40045612');
  });

  it('converts FourCC codes and control names', () => {
    expect(fourcc('YUYV')).to.equal(0x56595559);
    expect(fourccName(0x56595559)).to.equal('YUYV');
    expect(controlKey('Exposure Time, Absolute')).to.equal('exposure_time_absolute');
    expect(controlKey('Gain, Automatic')).to.equal('gain_automatic');
  });
});
