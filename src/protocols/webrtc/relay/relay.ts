import type { RelayType } from '../../../index.js';
import type { VideoCodec } from '../params.js';
import type { RelayLinkState } from './janus-mountpoint.js';

/** State of a relay as a whole: `degraded` while some of its servers are fed and others not. */
export type RelayState = 'starting' | 'live' | 'degraded' | 'retrying' | 'stopped';

/** One destination of a relay (a Janus server, the WHIP endpoint) as status lists it. */
export interface RelayTargetStatus {
  /** The Janus API root or the WHIP endpoint. */
  url: string;
  /** Where the link is. */
  state: RelayLinkState;
  /** RTP packets sent to it. */
  packetsSent: number;
  /** Bytes sent to it. */
  bytesSent: number;
  /** Viewers there, where the server reports them (Janus `info`). */
  viewers?: number;
  /** Why it is not live, until it is again. */
  lastError?: string;
  /** Times it was (re)connected: mountpoint created, or WHIP session published. */
  connections: number;
}

/** A relay as `GET /liveview/relays`, getActiveStreams and /metrics show it. */
export interface RelayStatus {
  /** Its name. */
  name: string;
  /** `janus` or `whip`. */
  type: RelayType;
  /** The detector relayed. */
  detector: string;
  /** The codec relayed. */
  codec: VideoCodec;
  /** Overall state. */
  state: RelayState;
  /** The id of its session in the stream's clients (while joined). */
  session?: string;
  /** Janus mountpoint id. */
  mountpointId?: number;
  /** RTP packets sent, over all destinations. */
  packetsSent: number;
  /** Bytes sent, over all destinations. */
  bytesSent: number;
  /** Viewers over all destinations that report them. */
  viewers?: number;
  /** The most recent failure of any destination still failing. */
  lastError?: string;
  /** Each destination. */
  targets: RelayTargetStatus[];
}

/** A running relay. */
export interface Relay {
  /** Its name. */
  readonly name: string;
  /** Starts feeding (returns at once; links connect in the background). */
  start(): void;
  /** Stops: leaves the stream and tells the far end (mountpoint destroyed, WHIP DELETE). */
  stop(): Promise<void>;
  /** Its status now. */
  status(): RelayStatus;
}

/** The overall state from the destinations' states. */
export function overallState(states: RelayLinkState[], stopped: boolean): RelayState {
  if (stopped) return 'stopped';
  const live = states.filter((s) => s === 'live').length;
  if (live > 0) return live === states.length ? 'live' : 'degraded';
  return states.some((s) => s === 'retrying') ? 'retrying' : 'starting';
}

/** What a stream's listing (getActiveStreams) shows of a relay's session, as the client's `details`. */
export function relayDetails(status: RelayStatus): Record<string, unknown> {
  return {
    relay: status.name,
    type: status.type,
    state: status.state,
    packetsSent: status.packetsSent,
    bytesSent: status.bytesSent,
    ...(status.viewers !== undefined ? { viewers: status.viewers } : {}),
    ...(status.lastError ? { lastError: status.lastError } : {}),
    targets: status.targets.map((t) => ({ url: t.url, state: t.state })),
  };
}
