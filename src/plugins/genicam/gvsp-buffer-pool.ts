/** Spare frame buffers, so that a stream of same-size blocks stops allocating after a while. */

/** Spare buffers kept (a few blocks are in flight at once). */
const MAX_SPARE_BUFFERS = 4;

/**
 * Buffers of blocks that never became frames, for the next blocks (a frame owns its buffer: it
 * is handed out without a copy, so it never comes back here).
 */
export class GvspBufferPool {
  private readonly spare: Buffer[] = [];

  /** An assembly buffer of at least `bytes`: a spare one when there is one big enough. */
  take(bytes: number): Buffer {
    const i = this.spare.findIndex((b) => b.length >= bytes);
    if (i < 0) return Buffer.allocUnsafeSlow(bytes);
    return this.spare.splice(i, 1)[0];
  }

  /** Keeps a buffer nobody holds any more, for a later `take`. */
  giveBack(buf: Buffer): void {
    const spare = this.spare;
    spare.push(buf);
    // Keep the largest: after a size change the small ones would never be taken again.
    if (spare.length > MAX_SPARE_BUFFERS) {
      let smallest = 0;
      for (let i = 1; i < spare.length; i++)
        if (spare[i].length < spare[smallest].length) smallest = i;
      spare.splice(smallest, 1);
    }
  }
}
