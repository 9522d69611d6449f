import { expect } from 'chai';
import { RtpHeader, RtpPacket, SrtpSession } from 'werift';
import { ntpTime } from '../../src/protocols/webrtc/rtp-sender.js';
import {
  SRTP_AEAD_AES_128_GCM,
  SRTP_AES128_CM_HMAC_SHA1_80,
  SrtpProtector,
} from '../../src/protocols/webrtc/srtp.js';

/** A werift SRTP session whose local and remote keys are the same: it decrypts what we protect. */
function sessionFor(profile: number): SrtpSession {
  const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const salt = Buffer.from('0102030405060708090a0b0c0d0e', 'hex').subarray(
    0,
    profile === SRTP_AEAD_AES_128_GCM ? 12 : 14,
  );
  return new SrtpSession({
    keys: {
      localMasterKey: key,
      localMasterSalt: salt,
      remoteMasterKey: key,
      remoteMasterSalt: salt,
    },
    profile: profile as 1 | 7,
  });
}

function protectorFor(session: SrtpSession): SrtpProtector {
  const c = session.localContext;
  return new SrtpProtector({
    profile: c.profile,
    key: c.srtpSessionKey,
    salt: c.srtpSessionSalt,
    authKey: c.srtpSessionAuthTag,
  });
}

describe('WebRTC: SRTP protection of the per-viewer send path', () => {
  for (const [name, profile] of [
    ['AEAD_AES_128_GCM', SRTP_AEAD_AES_128_GCM],
    ['AES_CM_128_HMAC_SHA1_80', SRTP_AES128_CM_HMAC_SHA1_80],
  ] as const) {
    it(`${name}: werift decrypts it, and it equals werift's own protection byte for byte`, () => {
      const session = sessionFor(profile);
      const protector = protectorFor(session);
      const payload = Buffer.from(Array.from({ length: 1100 }, (_, i) => (i * 7) & 0xff));
      // A header with one-byte extensions (mid "0", abs-send-time, playout-delay), as the viewer writes it.
      const header = Buffer.from(
        '90607fff0001e240deadbeef' + 'bede0003' + '1030' + '22112233' + '32000000' + '0000',
        'hex',
      );
      const sealed = protector.protect(header, 28, payload, 0);
      expect(sealed.length).to.equal(28 + payload.length + protector.tagLength);
      const opened = session.decrypt(sealed);
      const packet = RtpPacket.deSerialize(opened);
      expect(packet.header.sequenceNumber).to.equal(0x7fff);
      expect(packet.header.ssrc).to.equal(0xdeadbeef);
      expect(packet.header.marker).to.equal(false);
      expect(Buffer.compare(packet.payload, payload)).to.equal(0);
      // werift's sender path produces the same bytes from header objects.
      const expected = sessionFor(profile).encrypt(payload, RtpHeader.deSerialize(header));
      expect(Buffer.compare(sealed, expected)).to.equal(0);
    });

    it(`${name}: the rollover counter takes part (a packet after a wrap decrypts only with it)`, () => {
      const session = sessionFor(profile);
      const protector = protectorFor(session);
      const header = Buffer.from('80600000000000640000abcd', 'hex');
      const payload = Buffer.from('after the wrap');
      const a = protector.protect(header, 12, payload, 0);
      const b = protector.protect(header, 12, payload, 1);
      expect(Buffer.compare(a, b)).to.not.equal(0);
    });
  }

  it('refuses an unknown protection profile', () => {
    expect(
      () => new SrtpProtector({ profile: 2, key: Buffer.alloc(16), salt: Buffer.alloc(14) }),
    ).to.throw(/unsupported SRTP protection profile 2/);
  });

  it('NTP time: 32.32 fixed point seconds since 1900', () => {
    const ntp = ntpTime(1_000_500); // 1000.5 s after 1970
    expect(Number(ntp >> 32n)).to.equal(2_208_988_800 + 1000);
    expect(Number(ntp & 0xffffffffn)).to.equal(0x80000000);
  });
});
