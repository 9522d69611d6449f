import type { EncodedUnit, StreamSession } from './stream-worker.js';

/** The one numbering of sessions of each protocol, so ids read `mjpeg-3`, `binary-7`. */
const nextIds = new Map<string, number>();

/** `<prefix>-<n>`, n growing per prefix within the process. */
export function nextSessionId(prefix: string): string {
  const n = nextIds.get(prefix) ?? 1;
  nextIds.set(prefix, n + 1);
  return `${prefix}-${n}`;
}

/** `address:port` of a socket's peer, for listings and logs ('unknown' once the socket is gone). */
export function remoteOf(
  socket: { remoteAddress?: string; remotePort?: number } | null | undefined,
): string {
  if (!socket?.remoteAddress) return 'unknown';
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

/**
 * What every session has in common: id, peer, counters and an idempotent close that tells its
 * stream once. Protocols implement only delivery (`deliver`) and teardown (`release`).
 */
export abstract class BaseSession<U> implements StreamSession<U> {
  /** Unique id within the process. */
  readonly id: string;
  /** Units delivered to this client. */
  framesSent = 0;
  /** Units skipped because this client was not ready. */
  framesSkipped = 0;
  /** Bytes handed to this client's transport (the protocol counts them where it sends). */
  bytesSent = 0;
  private isClosed = false;

  constructor(
    idPrefix: string,
    /** Who the client is (address:port). */
    readonly remote: string,
    private readonly onClosed: (session: BaseSession<U>) => void,
  ) {
    this.id = nextSessionId(idPrefix);
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Delivers a unit unless closed; the protocol decides whether to send or skip it. */
  send(unit: EncodedUnit<U>): void {
    if (!this.isClosed) this.deliver(unit);
  }

  /** Ends the session once: the protocol releases its transport, then the stream forgets it. */
  close(reason = 'stream stopped'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.release(reason);
    this.onClosed(this);
  }

  /** Sends or skips one unit (never called after close). */
  protected abstract deliver(unit: EncodedUnit<U>): void;
  /** Closes the transport (called once). */
  protected abstract release(reason: string): void;
}
