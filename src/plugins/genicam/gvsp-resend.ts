/**
 * When to ask for missing packets again, and when to give a block up. A single interval timer,
 * running only while blocks are in flight, does both: no per-packet timers or clock reads.
 */

import type { GvspAssembler } from './gvsp-assembler.js';
import { growState, RECEIVED, REQUESTED, type Block } from './gvsp-block.js';
import type { GvspReceiverOptions, GvspStats } from './gvsp-types.js';

/** Silence before the end of a block is asked for again: this many gap delays, at least… */
const TAIL_DELAY_FACTOR = 4;
/** …this many milliseconds. */
const MIN_TAIL_DELAY_MS = 20;
/** A tick this many intervals late means the loop stalled. */
const STALL_TICKS = 4;

/**
 * Asks for gaps through `requestResend` (PACKETRESEND), spreading its rounds over the frame's
 * lifetime, and drops blocks still incomplete `frameTimeoutMs` after their last packet.
 */
export class GvspResendScheduler {
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt = 0;
  private readonly resendDelayMs: number;
  private readonly maxResendRequests: number;
  private readonly retryMs: number;
  private readonly tailDelayMs: number;
  private readonly tickMs: number;

  constructor(
    private readonly assembler: GvspAssembler,
    private readonly counters: GvspStats,
    private readonly frameTimeoutMs: number,
    private readonly options: GvspReceiverOptions,
  ) {
    this.resendDelayMs = options.resendDelayMs ?? 5;
    this.maxResendRequests = options.maxResendRequests ?? 3;
    // Retries spread over the frame's lifetime: a lost request or a lost resent packet gets
    // another chance before the frame is given up.
    this.retryMs = Math.max(this.resendDelayMs, frameTimeoutMs / (this.maxResendRequests + 1));
    this.tailDelayMs = Math.min(
      Math.max(TAIL_DELAY_FACTOR * this.resendDelayMs, MIN_TAIL_DELAY_MS),
      frameTimeoutMs / 2,
    );
    this.tickMs = Math.max(1, Math.floor(Math.min(this.resendDelayMs, frameTimeoutMs) / 2));
  }

  /** Starts the timer if it is not running (a block has started). */
  start(): void {
    if (this.timer || this.assembler.closed) return;
    this.lastTickAt = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  /** Stops the timer; the next block starts it again. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.lastTickAt > STALL_TICKS * this.tickMs;
    this.lastTickAt = now;
    const assembler = this.assembler;
    for (const block of assembler.inFlight.values()) {
      if (block.received !== block.receivedAtTick) {
        block.receivedAtTick = block.received;
        block.lastPacketAt = now;
      }
      // After a stall (GC, a busy loop) the socket holds packets not read yet: silence measured
      // across it says nothing about the link, so judge again once they have been read.
      if (late) continue;
      if (now - block.lastPacketAt >= this.frameTimeoutMs) {
        const last = this.expectedLastId(block);
        assembler.drop(block, Math.max(0, last + 1 - block.received));
        if (assembler.closed) return;
      } else this.resend(block, now);
    }
    assembler.expireFinished(now);
    if (assembler.inFlight.size === 0) this.stop();
  }

  /** Last packet id the block should have: the trailer's, or an estimate until it arrives. */
  private expectedLastId(block: Block): number {
    if (block.lastId >= 0) return block.lastId;
    let estimate = -1;
    if (block.imageBytes > 0 && block.payloadSize > 0 && (block.payloadType & 0x4000) === 0)
      estimate = Math.ceil(block.imageBytes / block.payloadSize) + 1;
    else if (this.assembler.lastTrailerId > 0) estimate = this.assembler.lastTrailerId;
    return Math.max(estimate, block.highest);
  }

  private resend(block: Block, now: number): void {
    const request = this.options.requestResend;
    if (!request || block.resendDisabled || block.resendRounds >= this.maxResendRequests) return;
    // Until the trailer arrives, only a silence tells that the end of the block was lost; a
    // sender may pause for a while (a busy camera, a busy host), so it must last longer than the
    // gap delay, which answers proof of a loss (a later packet arrived, the link keeps order).
    const overdue = block.lastId < 0 && now - block.lastPacketAt >= this.tailDelayMs;
    const last = overdue ? this.expectedLastId(block) : Math.max(block.lastId, block.highest);
    if (last + 1 - block.received <= 0) {
      // Reordered packets filled the gap: a later gap waits its own delay.
      block.holeSince = -1;
      return;
    }
    if (block.holeSince < 0) block.holeSince = overdue ? block.lastPacketAt : now;
    if (now - block.holeSince < this.resendDelayMs || now < block.nextResendAt) return;
    if (last >= block.state.length) growState(block, last);
    const state = block.state;
    const blockId = BigInt(block.id);
    let first = -1;
    for (let i = 0; i <= last + 1; i++) {
      if (i <= last && state[i] !== RECEIVED) {
        if (first < 0) first = i;
        state[i] = REQUESTED;
      } else if (first >= 0) {
        this.counters.resendRequested += i - first;
        request(blockId, first, i - 1);
        first = -1;
      }
    }
    block.resendRounds++;
    block.nextResendAt = now + this.retryMs;
    block.holeSince = -1;
  }
}
