import { Encoder } from '@msgpack/msgpack';

/** Frame ids count per client and wrap at this value, as ImSwitch's do. */
export const FRAME_ID_MODULO = 256;

/**
 * Written where frame_id goes and replaced per client: a value msgpack stores as uint32, so every
 * frame id fits in the same 4 bytes (a longer integer encoding than needed is valid msgpack).
 */
const PLACEHOLDER = 0xffff_fff0;

/** `"frame_id"` (fixstr of 8 bytes) followed by the placeholder (uint32). */
const SLOT = Buffer.from([0xa8, ...Buffer.from('frame_id', 'ascii'), 0xce, 0xff, 0xff, 0xff, 0xf0]);

/** Capture times are u64 nanoseconds: sent as msgpack integers, not as lossy doubles. */
const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });

/** What ImSwitch's `frame` event carries: metadata and either a UC2F packet or a base64 JPEG. */
export interface FrameMessage {
  /** Frame metadata (frame_id is set per client). */
  metadata: Record<string, unknown>;
  /** binary: the UC2F packet. */
  data?: Uint8Array;
  /** jpeg: the JPEG in base64. */
  image?: string;
}

/**
 * One frame as msgpack, encoded once for all Socket.IO clients: only the 4 bytes of frame_id
 * differ between clients, so each distinct frame id costs one copy and nothing is encoded twice.
 */
export class FramePayload {
  private readonly original: Buffer;
  private readonly idAt: number;
  private firstId: number | undefined;
  private readonly copies = new Map<number, Buffer>();

  constructor(message: FrameMessage) {
    // frame_id first, and metadata before the pixels: the slot is found within the first bytes.
    const bytes = encoder.encode({
      metadata: { frame_id: PLACEHOLDER, ...message.metadata },
      ...(message.data ? { data: message.data } : {}),
      ...(message.image !== undefined ? { image: message.image } : {}),
    });
    this.original = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const at = this.original.indexOf(SLOT);
    if (at < 0) throw new Error('frame_id slot missing from the encoded frame');
    this.idAt = at + SLOT.length - 4;
  }

  /** Bytes of the whole payload. */
  get byteLength(): number {
    return this.original.length;
  }

  /** The payload with `frameId` (0..255); the buffer is never changed afterwards (sockets send it later). */
  forFrameId(frameId: number): Buffer {
    if (this.firstId === undefined) {
      this.firstId = frameId;
      this.original.writeUInt32BE(frameId, this.idAt);
    }
    if (frameId === this.firstId) return this.original;
    let copy = this.copies.get(frameId);
    if (!copy) {
      copy = Buffer.from(this.original);
      copy.writeUInt32BE(frameId, this.idAt);
      this.copies.set(frameId, copy);
    }
    return copy;
  }
}
