import {
  ConflictError,
  NotFoundError,
  relayType,
  type Logger,
  type NamedRelayConfig,
  type RelayConfig,
  type StreamHub,
} from '../../../index.js';
import type { WebrtcWorker } from '../worker.js';
import { JanusRelay } from './janus-relay.js';
import type { Relay, RelayStatus } from './relay.js';
import { WhipRelay } from './whip-relay.js';

/**
 * The relays of the WebRTC protocol's streams: those of `relays:` start when the protocol is
 * attached, others are added and removed at run time (`/liveview/relays`); all stop when the
 * server stops. Each relay keeps its own session in its detector's stream.
 */
export class RelayManager {
  private readonly relays = new Map<string, Relay>();
  private closed = false;

  constructor(
    private readonly hub: StreamHub<WebrtcWorker>,
    private readonly logger: Logger,
  ) {}

  /** Starts a relay; ConflictError if the name is taken, NotFoundError for an unknown detector. */
  add({ name, config }: NamedRelayConfig): RelayStatus {
    if (this.closed) throw new ConflictError('the server is stopping');
    if (this.relays.has(name)) {
      throw new ConflictError(
        `a relay named '${name}' exists; DELETE it first or pick another name`,
      );
    }
    this.hub.detectorName(config.detector);
    const relay = this.create(name, config);
    this.relays.set(name, relay);
    relay.start();
    this.logger.info(
      { relay: name, type: relayType(config), detector: config.detector },
      'relay started',
    );
    return relay.status();
  }

  /** Stops and forgets a relay; NotFoundError if there is none of that name. */
  async remove(name: string): Promise<void> {
    const relay = this.relays.get(name);
    if (!relay) {
      throw new NotFoundError(
        `no relay named '${name}' (relays: ${[...this.relays.keys()].join(', ') || 'none'})`,
      );
    }
    this.relays.delete(name);
    await relay.stop();
    this.logger.info({ relay: name }, 'relay stopped');
  }

  /** Every relay's status. */
  list(): RelayStatus[] {
    return [...this.relays.values()].map((r) => r.status());
  }

  /** The status of a relay whose session has this id in a stream, if any. */
  bySession(sessionId: string): RelayStatus | undefined {
    return this.list().find((s) => s.session === sessionId);
  }

  /** Stops every relay (shutdown): mountpoints destroyed, WHIP sessions deleted. */
  async close(): Promise<void> {
    this.closed = true;
    const relays = [...this.relays.values()];
    this.relays.clear();
    await Promise.all(relays.map((r) => r.stop()));
  }

  private create(name: string, config: RelayConfig): Relay {
    const logger = this.logger.child({ relay: name });
    return relayType(config) === 'janus'
      ? new JanusRelay(name, config, this.hub, logger)
      : new WhipRelay(name, config, this.hub, logger);
  }
}
