import { Worker } from 'node:worker_threads';
import type { I420Picture } from './i420.js';
import type { EncodeRequest, EncodedPacket, EncoderReply } from './encoder-messages.js';
import type { VideoCodec } from './params.js';

const THREAD_URL = new URL('./encoder-thread.js', import.meta.url);

/** How many encoders exist right now (tests check that viewers share one). */
export let liveEncoders = 0;

/**
 * A VP8 or H.264 encoder in its own thread: one per stream and codec, shared by all its
 * viewers. Keyframes on demand, bitrate changeable between frames.
 */
export class VideoEncoder {
  /** Frames encoded. */
  framesEncoded = 0;
  /** Milliseconds the last encode took in the thread. */
  lastEncodeMs = 0;
  private readonly thread: Worker;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (p: EncodedPacket[]) => void; reject: (e: Error) => void }
  >();
  private closed = false;

  constructor(readonly codec: VideoCodec) {
    this.thread = new Worker(THREAD_URL);
    liveEncoders++;
    this.thread.on('message', (reply: EncoderReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.type === 'error') w.reject(new Error(reply.message));
      else {
        this.framesEncoded++;
        this.lastEncodeMs = reply.encodeMs;
        w.resolve(reply.packets);
      }
    });
    this.thread.on('error', (err) => this.failAll(err));
    this.thread.on('exit', () => this.failAll(new Error('the encoder thread stopped')));
  }

  /** Encodes one picture; resolves to the access units it produced (usually one). */
  encode(
    picture: I420Picture,
    pts90k: number,
    keyframe: boolean,
    bitrate: number,
  ): Promise<EncodedPacket[]> {
    if (this.closed) return Promise.reject(new Error('encoder closed'));
    const id = this.nextId++;
    const request: EncodeRequest = {
      type: 'encode',
      id,
      codec: this.codec,
      width: picture.width,
      height: picture.height,
      data: picture.data,
      pts: pts90k,
      keyframe,
      bitrate,
    };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.thread.postMessage(request, [picture.data.buffer as ArrayBuffer]);
    });
  }

  /** Stops the thread and frees the encoder. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    liveEncoders--;
    this.thread.postMessage({ type: 'close' });
    await this.thread.terminate();
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
