import { decode } from '@msgpack/msgpack';
import { expect } from 'chai';
import { FramePayload } from '../../src/api/imswitch/frame-payload.js';
import { toImswitchDict, toLiveviewParams } from '../../src/api/imswitch/params.js';
import { knownKeys } from '../../src/core/validation.js';
import { BinaryParams } from '../../src/protocols/binary/params.js';
import { MjpegParams } from '../../src/protocols/mjpeg/params.js';

describe('ImSwitch compatibility: pure parts', () => {
  describe('FramePayload (msgpack encoded once, frame_id per client)', () => {
    const data = new Uint8Array([1, 2, 3, 255]);
    const payload = new FramePayload({
      metadata: { protocol: 'binary', frame_number: 7, timestamp_ns: 123n },
      data,
    });

    it('each frame id decodes to its own value; the other fields are the same for all', () => {
      for (const id of [5, 0, 127, 128, 255]) {
        const m = decode(payload.forFrameId(id)) as {
          metadata: Record<string, unknown>;
          data: Uint8Array;
        };
        expect(m.metadata).to.deep.equal({
          frame_id: id,
          protocol: 'binary',
          frame_number: 7,
          timestamp_ns: 123,
        });
        expect([...m.data]).to.deep.equal([...data]);
      }
    });

    it('a buffer once handed out never changes (sockets send it later)', () => {
      const first = payload.forFrameId(5);
      const copy = Buffer.from(first);
      payload.forFrameId(9);
      payload.forFrameId(200);
      expect(first.equals(copy)).to.equal(true);
      expect(payload.forFrameId(9)).to.equal(payload.forFrameId(9));
    });

    it('a jpeg payload carries the base64 image', () => {
      const jpeg = new FramePayload({ metadata: { protocol: 'jpeg' }, image: 'AAEC' });
      expect(decode(jpeg.forFrameId(3))).to.deep.equal({
        metadata: { frame_id: 3, protocol: 'jpeg' },
        image: 'AAEC',
      });
    });
  });

  describe('params: ImSwitch names onto liveview names and back', () => {
    it('maps the keys a protocol has and leaves the others out', () => {
      const imswitch = {
        compression_algorithm: 'zstandard',
        compression_level: 25,
        jpeg_quality: 60,
        throttle_ms: 40,
        stun_servers: [],
      };
      expect(toLiveviewParams(imswitch, knownKeys(BinaryParams))).to.deep.equal({
        compression: 'zstd',
        compression_level: 19,
        throttle_ms: 40,
      });
      expect(toLiveviewParams(imswitch, knownKeys(MjpegParams))).to.deep.equal({
        jpeg_quality: 60,
        throttle_ms: 40,
      });
    });

    it('shows liveview params as ImSwitch\u2019s to_dict(), with its defaults where a key does not apply', () => {
      const dict = toImswitchDict(new MjpegParams(), 'jpeg', 'Camera');
      expect(dict).to.deep.equal({
        detector_name: 'Camera',
        protocol: 'jpeg',
        compression_algorithm: 'lz4',
        compression_level: 0,
        subsampling_factor: 1,
        throttle_ms: 50,
        crop_size: 0,
        jpeg_quality: 80,
        stun_servers: [],
        turn_servers: [],
        max_width: 0,
        broadcast_frames: true,
      });
      // What the web app sends back maps to the same liveview params.
      expect(toLiveviewParams(dict, knownKeys(MjpegParams))).to.deep.equal({
        throttle_ms: 50,
        subsampling_factor: 1,
        max_width: 0,
        jpeg_quality: 80,
      });
    });
  });
});
