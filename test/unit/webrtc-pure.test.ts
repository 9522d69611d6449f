import { expect } from 'chai';
import { toI420 } from '../../src/protocols/webrtc/i420.js';
import { parseStreamParams } from '../../src/core/stream-params.js';
import { WebrtcParams } from '../../src/protocols/webrtc/params.js';
import {
  chooseCodec,
  offeredVideoCodecs,
  onlyCandidatesOn,
} from '../../src/protocols/webrtc/peer.js';
import { iceServerLinks } from '../../src/protocols/webrtc/protocol.js';

const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 102 104',
  'a=rtpmap:96 VP8/90000',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:104 H264/90000',
  'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=candidate:1 1 udp 2113937151 192.0.2.2 50000 typ host',
  'a=candidate:2 1 udp 2113937151 127.0.0.1 50001 typ host',
  '',
].join('\r\n');

describe('WebRTC pure helpers', () => {
  describe('toI420', () => {
    it('puts gray straight into Y with U = V = 128', () => {
      const gray = Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80]); // 4x2
      const p = toI420({ data: gray, width: 4, height: 2, channels: 1 });
      expect(p).to.include({ width: 4, height: 2 });
      expect([...p.data]).to.deep.equal([10, 20, 30, 40, 50, 60, 70, 80, 128, 128, 128, 128]);
    });

    it('drops the last column and row of odd sizes', () => {
      const gray = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]); // 3x3
      const p = toI420({ data: gray, width: 3, height: 3, channels: 1 });
      expect(p).to.include({ width: 2, height: 2 });
      expect([...p.data]).to.deep.equal([1, 2, 4, 5, 128, 128]);
    });

    it('converts RGB with BT.601 limited range (white, black, red)', () => {
      // 2x2: white, black / red, red
      const rgb = Uint8Array.from([255, 255, 255, 0, 0, 0, 255, 0, 0, 255, 0, 0]);
      const p = toI420({ data: rgb, width: 2, height: 2, channels: 3 });
      expect([...p.data.subarray(0, 4)]).to.deep.equal([235, 16, 82, 82]);
      // Chroma of the block's mean colour (191, 63, 63): U = 128 - 18.9, V = 128 + 56.2.
      expect([...p.data.subarray(4)]).to.deep.equal([109, 184]);
    });

    it('rejects a frame smaller than 2x2', () => {
      expect(() => toI420({ data: new Uint8Array(1), width: 1, height: 1, channels: 1 })).to.throw(
        'too small for video',
      );
    });
  });

  describe('SDP', () => {
    it('lists VP8 and H.264 with packetization mode 1 only', () => {
      expect(offeredVideoCodecs(OFFER)).to.deep.equal(['VP8', 'H264']);
      expect(chooseCodec(OFFER, 'H264')).to.equal('H264');
      const h264Mode0 = OFFER.replace('a=rtpmap:96 VP8/90000\r\n', '').replace(
        'packetization-mode=1',
        'packetization-mode=0',
      );
      expect(() => chooseCodec(h264Mode0, 'VP8')).to.throw('neither VP8 nor H.264');
    });

    it('keeps only candidates on the given addresses', () => {
      const kept = onlyCandidatesOn(OFFER, ['127.0.0.1']);
      expect(kept).to.include('127.0.0.1 50001');
      expect(kept).to.not.include('192.0.2.2');
    });
  });

  it('announces STUN and TURN servers as WHEP Link headers', () => {
    const params = parseStreamParams(
      WebrtcParams,
      {
        stun_servers: ['stun:stun.example.net:3478'],
        turn_servers: [{ urls: ['turn:turn.example.net:3478'], username: 'u', credential: 'p' }],
      },
      'params',
    );
    expect(iceServerLinks(params)).to.deep.equal([
      '<stun:stun.example.net:3478>; rel="ice-server"',
      '<turn:turn.example.net:3478>; rel="ice-server"; username="u"; credential="p"; credential-type="password"',
    ]);
  });

  it('rejects a malformed TURN server with the key path', () => {
    expect(() =>
      parseStreamParams(WebrtcParams, { turn_servers: [{ urls: 'turn:x' }] }, 'params'),
    ).to.throw('params.turn_servers.0.urls: must be a list of strings');
  });
});
