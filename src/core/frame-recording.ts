import { LiveViewError, errorMessage } from './errors.js';
import type { Frame } from './frame.js';
import type { FrameSubscription } from './frame-source.js';
import type { FrameWriter, RecordingContext, RecordingSink, RecordingStats } from './recording.js';

/** Frames a raw recording may hold in memory while its writer is busy (default of `recordFrames`). */
export const DEFAULT_RECORDING_QUEUE_FRAMES = 16;

/**
 * Runs a raw-frame recording: takes every frame of the detector through its own bounded queue and
 * hands them one at a time to `writer`. Frames the writer could not keep up with are dropped and
 * counted; a failed write ends the recording (the writer is closed so its file stays readable).
 */
export async function recordFrames(
  context: RecordingContext,
  writer: FrameWriter,
  capacity = context.queueFrames,
): Promise<RecordingSink> {
  let subscription: FrameSubscription;
  try {
    subscription = await context.subscribeFrames(capacity);
  } catch (err) {
    await writer.close().catch(() => undefined);
    throw err;
  }
  return new FrameRecording(subscription, writer);
}

/**
 * Opens a raw format's writer and runs it with `recordFrames`; a writer that cannot be opened
 * (folder not writable, bad params) fails the start with a message naming the format.
 */
export async function startFrameRecording(
  context: RecordingContext,
  formatLabel: string,
  open: () => Promise<FrameWriter>,
): Promise<RecordingSink> {
  let writer: FrameWriter;
  try {
    writer = await open();
  } catch (err) {
    if (err instanceof LiveViewError) throw err;
    throw new LiveViewError(`cannot start the ${formatLabel} recording: ${errorMessage(err)}`, 500);
  }
  return recordFrames(context, writer);
}

class FrameRecording implements RecordingSink {
  private framesWritten = 0;
  private firstTimestamp: bigint | undefined;
  private lastTimestamp: bigint | undefined;
  private stopping: Promise<void> | undefined;
  /** Frames captured before stop that were still queued: written before the file is finished. */
  private leftover: Frame[] = [];
  /** True once the writer is closed. */
  private over = false;
  readonly ended: Promise<void>;

  constructor(
    private readonly subscription: FrameSubscription,
    private readonly writer: FrameWriter,
  ) {
    this.ended = this.pump();
    // The manager may only look at `ended` later: an early failure is not an unhandled rejection.
    this.ended.catch(() => undefined);
  }

  get stats(): RecordingStats {
    return {
      // While running: frames handed to the writer (it may still be writing the last few); once
      // ended: what the writer says is whole on disk, when it knows.
      framesWritten: this.over
        ? (this.writer.framesWritten ?? this.framesWritten)
        : this.framesWritten,
      framesDropped: this.subscription.queue.dropped,
      bytesWritten: this.writer.bytesWritten,
      firstTimestamp: this.firstTimestamp,
      lastTimestamp: this.lastTimestamp,
    };
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // The frames still queued were captured before stop and belong in the file; closing the
      // queue then ends the pump once they are written.
      this.leftover = this.subscription.queue.takeAll();
      this.subscription.unsubscribe();
      await this.ended.catch(() => undefined);
    })();
    return this.stopping;
  }

  private async pump(): Promise<void> {
    const queue = this.subscription.queue;
    try {
      for (;;) {
        const frame = (await queue.next()) ?? this.leftover.shift();
        if (!frame) break;
        await this.writer.write(frame);
        this.framesWritten++;
        this.firstTimestamp ??= frame.timestamp;
        this.lastTimestamp = frame.timestamp;
      }
    } catch (err) {
      this.subscription.unsubscribe();
      await this.writer.close().catch(() => undefined);
      this.over = true;
      throw new Error(`writing failed: ${errorMessage(err)}`, { cause: err });
    }
    try {
      await this.writer.close();
    } finally {
      this.over = true;
    }
  }
}
