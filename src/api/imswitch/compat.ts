import type { ApiRoutes } from '../../core/api-routes.js';
import type { LiveViewController } from '../../core/controller.js';
import type { Logger } from '../../core/logger.js';
import type { WebSocketRoutes } from '../../core/protocol.js';
import { imswitchRoutes } from './routes.js';
import { ImswitchSocketChannel } from './socket-channel.js';
import { ImswitchStreams } from './streams.js';

export { IMSWITCH_ROOT } from './routes.js';
export { SOCKET_IO_PATH } from './socket-channel.js';

/** The group of the ImSwitch routes and Socket.IO endpoint in GET /openapi.json. */
export const IMSWITCH_TAG = 'imswitch';

/** What the group holds, for the document. */
export const IMSWITCH_TAG_DESCRIPTION =
  "ImSwitch's live-view API (config compat.imswitch): its web app's REST calls and its Socket.IO channel, over the same streams";

/**
 * ImSwitch's live-view API beside liveview's own (config `compat.imswitch`): the REST routes
 * under /imswitch/api and the Socket.IO channel, over the same controller and streams.
 */
export class ImswitchCompat {
  /** ImSwitch's view of the streams. */
  readonly streams: ImswitchStreams;
  /** The Socket.IO channel. */
  readonly socket: ImswitchSocketChannel;

  constructor(controller: LiveViewController, logger: Logger) {
    const log = logger.child({ compat: 'imswitch' });
    this.streams = new ImswitchStreams(controller, log);
    this.socket = new ImswitchSocketChannel(this.streams, log);
  }

  /** Declares the REST routes on `routes`, mounted at IMSWITCH_ROOT. */
  declareRoutes(routes: ApiRoutes): void {
    imswitchRoutes(routes, this.streams);
  }

  /** Registers the Socket.IO path with the server's upgrade router, under IMSWITCH_TAG. */
  attach(upgrades: { scoped(tag: string): WebSocketRoutes }): void {
    this.socket.attach(upgrades.scoped(IMSWITCH_TAG));
  }

  /** Disconnects the Socket.IO clients and ends the ImSwitch streams' clients (shutdown). */
  async close(): Promise<void> {
    await this.socket.close();
    this.streams.clear();
  }
}
