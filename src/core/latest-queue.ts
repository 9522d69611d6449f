/**
 * A bounded queue where the newest item wins: pushing into a full queue discards the oldest item
 * and counts it, so a slow reader never makes the writer wait or memory grow.
 */
export class LatestQueue<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T | undefined) => void) | undefined;
  private closed = false;
  /** Items discarded because the reader was too slow. */
  dropped = 0;

  /** @param capacity most items kept (default 1). */
  constructor(readonly capacity = 1) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be >= 1');
  }

  /** Number of items waiting. */
  get size(): number {
    return this.items.length;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Adds an item; returns the item it discarded, if any. Never blocks. */
  push(item: T): T | undefined {
    if (this.closed) return undefined;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(item);
      return undefined;
    }
    this.items.push(item);
    if (this.items.length > this.capacity) {
      this.dropped++;
      return this.items.shift();
    }
    return undefined;
  }

  /** The oldest waiting item, or waits for the next one; `undefined` once closed. */
  next(): Promise<T | undefined> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    if (this.closed) return Promise.resolve(undefined);
    if (this.waiter) throw new Error('LatestQueue supports one reader');
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Takes every waiting item and returns the newest (or undefined if none), without counting drops. */
  takeNewest(): T | undefined {
    const newest = this.items[this.items.length - 1];
    this.items.length = 0;
    return newest;
  }

  /** Takes every waiting item, oldest first, without counting drops. */
  takeAll(): T[] {
    return this.items.splice(0, this.items.length);
  }

  /** Ends the queue: a waiting reader gets `undefined`. */
  close(): void {
    this.closed = true;
    this.items.length = 0;
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }
}
