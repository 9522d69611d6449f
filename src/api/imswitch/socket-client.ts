import type { Socket } from 'socket.io';
import { BaseSession, remoteOf } from '../../core/stream-session.js';
import type { EncodedUnit } from '../../core/stream-worker.js';
import { isMapping } from '../../core/validation.js';
import { FRAME_ID_MODULO, type FramePayload } from './frame-payload.js';
import type { StreamRecord } from './streams.js';

/**
 * Frames a client may have unacknowledged: ImSwitch sends the next frame while `sent - acked` is
 * at most 3 (its MAX_FRAME_LAG), so 4 are in flight at most.
 */
export const MAX_UNACKED_FRAMES = 4;

/**
 * One Socket.IO client: its frame ids (0..255, counted per client as ImSwitch does), the frames it
 * has not acknowledged, and one session per stream it watches. While it has MAX_UNACKED_FRAMES
 * unacknowledged, or its socket is still sending, its frames are dropped (and counted by its
 * sessions): nothing queues up for a client that stopped acknowledging or reading.
 */
export class SocketClient {
  /** The streams it watches, and the ones whose session is being set up. */
  readonly sessions = new Map<StreamRecord, SocketFrameSession | 'joining'>();
  /** Who the client is (address:port). */
  readonly remote: string;
  private nextId = 0;
  private readonly inFlight: number[] = [];
  private isClosed = false;

  constructor(readonly socket: Socket) {
    this.remote = remoteOf(socket.request.socket);
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Frames sent and not yet acknowledged. */
  get unacknowledged(): number {
    return this.inFlight.length;
  }

  /** Whether a frame may go now. */
  get ready(): boolean {
    return (
      !this.isClosed &&
      this.inFlight.length < MAX_UNACKED_FRAMES &&
      // A frame behind another still being written would only be older when it arrives.
      this.socket.conn.transport.writable
    );
  }

  /** Sends one frame with the client's next frame id; returns the bytes sent. */
  send(payload: FramePayload): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) % FRAME_ID_MODULO;
    this.inFlight.push(id);
    const bytes = payload.forFrameId(id);
    this.socket.emit('frame', bytes);
    return bytes.length;
  }

  /**
   * `frame_ack {frame_id}`: that frame and every earlier one are done. An ack without a frame id
   * we have in flight (a client that counts instead of echoing) still frees the oldest.
   */
  ack(data: unknown): void {
    const id = isMapping(data) ? data.frame_id : undefined;
    const at = typeof id === 'number' ? this.inFlight.indexOf(id) : -1;
    this.inFlight.splice(0, at >= 0 ? at + 1 : 1);
  }

  /** Ends every session (the socket left); idempotent. */
  close(): void {
    this.isClosed = true;
    for (const session of this.sessions.values())
      if (session !== 'joining') session.close('client left');
    this.sessions.clear();
  }
}

/**
 * A Socket.IO client's view of one stream: the stream's worker hands it each unit like to any
 * session; it sends the unit's shared payload if its client is ready and drops it otherwise.
 */
export class SocketFrameSession extends BaseSession<unknown> {
  constructor(
    private readonly client: SocketClient,
    private readonly payloadOf: (unit: EncodedUnit<unknown>) => FramePayload,
    onClosed: (session: BaseSession<unknown>) => void,
  ) {
    super('socketio', client.remote, onClosed);
  }

  protected deliver(unit: EncodedUnit<unknown>): void {
    if (!this.client.ready) {
      this.framesSkipped++;
      return;
    }
    this.bytesSent += this.client.send(this.payloadOf(unit));
    this.framesSent++;
  }

  protected release(): void {
    // The socket stays: it may watch other streams, and it learns of a stop from the REST API.
  }

  /** The binary worker tells its sessions a new credit: Socket.IO clients keep ImSwitch's limit. */
  setMaxInFlight(): void {}

  /** The binary worker tells its sessions new params: Socket.IO clients read them from each frame's metadata. */
  sendJson(): void {}
}
