/**
 * A few byte buffers used in turn, so that a stream's per-frame output (normalized pixels, an
 * I420 picture) is written over instead of allocated anew. A buffer comes back after `size`
 * calls: safe for a consumer that is done with a frame before the one `size` frames later is
 * made (a StreamWorker encodes one frame at a time).
 */
export class BufferRing {
  private readonly slots: (Uint8Array | undefined)[];
  private index = 0;

  /** `size` buffers in turn (default 2: the one being written and the one before it). */
  constructor(size = 2) {
    this.slots = new Array<Uint8Array | undefined>(size).fill(undefined);
  }

  /** The next buffer of exactly `length` bytes (a new one when the length changed). */
  next(length: number): Uint8Array {
    this.index = (this.index + 1) % this.slots.length;
    let buffer = this.slots[this.index];
    if (buffer?.length !== length) {
      buffer = new Uint8Array(length);
      this.slots[this.index] = buffer;
    }
    return buffer;
  }
}
