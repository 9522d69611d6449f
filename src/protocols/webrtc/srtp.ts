import { createCipheriv, createHmac } from 'node:crypto';

/** SRTP protection profile AES_CM_128_HMAC_SHA1_80 (RFC 5764), as DTLS-SRTP numbers it. */
export const SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;
/** SRTP protection profile AEAD_AES_128_GCM (RFC 7714), as DTLS-SRTP numbers it. */
export const SRTP_AEAD_AES_128_GCM = 0x0007;

/** The session keys of one direction of an SRTP session (RFC 3711 section 4.3, after the KDF). */
export interface SrtpSessionKeys {
  /** DTLS-SRTP protection profile: SRTP_AEAD_AES_128_GCM or SRTP_AES128_CM_HMAC_SHA1_80. */
  profile: number;
  /** The 16-byte session encryption key. */
  key: Uint8Array;
  /** The session salt: 12 bytes for GCM, 14 for AES-CM. */
  salt: Uint8Array;
  /** The 20-byte session authentication key (AES-CM only). */
  authKey?: Uint8Array;
}

/**
 * Protects RTP packets of one SRTP sender: one cipher operation per packet, the header taken as
 * serialized bytes (no header objects), the result in one buffer ready for the socket. AEAD GCM
 * (RFC 7714) is one AES-GCM pass; AES-CM (RFC 3711) is AES-CTR plus HMAC-SHA1-80.
 */
export class SrtpProtector {
  /** Bytes the protection adds after the payload (the authentication tag). */
  readonly tagLength: number;
  private readonly gcm: boolean;
  private readonly key: Buffer;
  private readonly salt: Buffer;
  private readonly authKey: Buffer;
  // Reused for every packet: createCipheriv copies its IV and HMAC copies its input.
  private readonly iv: Buffer;
  private readonly roc = Buffer.alloc(4);

  constructor(keys: SrtpSessionKeys) {
    this.gcm = keys.profile === SRTP_AEAD_AES_128_GCM;
    if (!this.gcm && keys.profile !== SRTP_AES128_CM_HMAC_SHA1_80) {
      throw new Error(`unsupported SRTP protection profile ${keys.profile}`);
    }
    if (!this.gcm && !keys.authKey) throw new Error('AES-CM SRTP needs an authentication key');
    this.key = Buffer.from(keys.key);
    this.salt = Buffer.from(keys.salt);
    this.authKey = Buffer.from(keys.authKey ?? []);
    this.tagLength = this.gcm ? 16 : 10;
    this.iv = Buffer.alloc(this.gcm ? 12 : 16);
  }

  /**
   * Returns the SRTP packet for an RTP header (its first `headerLength` bytes, SSRC and sequence
   * number included) and payload, with rollover counter `roc`.
   */
  protect(header: Buffer, headerLength: number, payload: Uint8Array, roc: number): Buffer {
    const ssrc = header.readUInt32BE(8);
    const seq = header.readUInt16BE(2);
    const aad = header.subarray(0, headerLength);
    const iv = this.iv;
    const salt = this.salt;
    const out = Buffer.allocUnsafe(headerLength + payload.length + this.tagLength);
    aad.copy(out, 0);
    if (this.gcm) {
      // RFC 7714 section 8.1: 00 00 | SSRC | ROC | SEQ, XOR the 12-byte salt.
      iv.writeUInt16BE(0, 0);
      iv.writeUInt32BE(ssrc, 2);
      iv.writeUInt32BE(roc >>> 0, 6);
      iv.writeUInt16BE(seq, 10);
      for (let i = 0; i < 12; i++) iv[i] ^= salt[i];
      const cipher = createCipheriv('aes-128-gcm', this.key, iv);
      cipher.setAAD(aad);
      const encrypted = cipher.update(payload);
      cipher.final();
      encrypted.copy(out, headerLength);
      cipher.getAuthTag().copy(out, headerLength + encrypted.length);
      return out;
    }
    // RFC 3711 section 4.1.1: (salt << 16) XOR (SSRC << 64) XOR (index << 16).
    iv.fill(0);
    iv.writeUInt32BE(ssrc, 4);
    iv.writeUInt32BE(roc >>> 0, 8);
    iv.writeUInt16BE(seq, 12);
    for (let i = 0; i < 14; i++) iv[i] ^= salt[i];
    const encrypted = createCipheriv('aes-128-ctr', this.key, iv).update(payload);
    encrypted.copy(out, headerLength);
    this.roc.writeUInt32BE(roc >>> 0, 0);
    const tag = createHmac('sha1', this.authKey)
      .update(aad)
      .update(encrypted)
      .update(this.roc)
      .digest();
    tag.copy(out, headerLength + encrypted.length, 0, 10);
    return out;
  }
}
