import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server, type Socket } from 'socket.io';
import { WebSocketServer, type ServerOptions as WsOptions } from 'ws';
import { selectSubprotocol } from '../../core/access.js';
import { BadRequestError, errorMessage } from '../../core/errors.js';
import type { WebSocketDoc } from '../../core/api-routes.js';
import type { Logger } from '../../core/logger.js';
import type { WebSocketRoutes } from '../../core/protocol.js';
import type { EncodedUnit } from '../../core/stream-worker.js';
import { parseQuery } from '../openapi/query.js';
import { binaryFrame, jpegFrame, StreamFrames } from './frame-messages.js';
import { SOCKET_PROTOCOLS } from './params.js';
import { SocketIoQuery } from './requests.js';
import { SocketClient, SocketFrameSession } from './socket-client.js';
import type { ImswitchStreams, StreamRecord } from './streams.js';

/** Where ImSwitch's web app opens its Socket.IO connection (`io(url, {path})`). */
export const SOCKET_IO_PATH = '/imswitch/socket.io/';

/** How to connect, appended to the message of a refused handshake or polling request. */
export const SOCKET_IO_HOW_TO_CONNECT = `Socket.IO here speaks Engine.IO protocol 4 (socket.io-client 3 and 4, python-socketio 5) over the websocket transport only: connect with io(url, {path: '${SOCKET_IO_PATH}', transports: ['websocket']}), as ImSwitch's web app does`;

/** The endpoint's entry in GET /openapi.json. */
const SOCKET_IO_DOC: WebSocketDoc = {
  summary: "ImSwitch's Socket.IO channel: the binary and jpeg streams' frames as `frame` events",
  description: [
    `Messages are Engine.IO 4 / Socket.IO 5 packets, not plain JSON: use a Socket.IO client with the websocket transport, \`io(url, {path: '${SOCKET_IO_PATH}', transports: ['websocket']})\`.`,
    "On connect the server emits `server_capabilities`; then every active ImSwitch binary and jpeg stream arrives as `frame` events, msgpack `{metadata, data}` (a UC2F packet) or `{metadata, image}` (a base64 JPEG). The client acknowledges each with `frame_ack {frame_id}`; a client's unacknowledged frames are limited.",
  ].join(' '),
  role: 'viewer',
  query: SocketIoQuery,
};

/** Largest message a client may send, in bytes (its messages are frame acknowledgements). */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

/** What ImSwitch announces on connect: the web app then expects msgpack frames. */
const SERVER_CAPABILITIES = {
  messagepack: true,
  binary_streaming: true,
  protocol_version: '1.0',
} as const;

/** engine.io's WebSocket server, never echoing a bearer subprotocol (it holds a credential). */
class BearerSafeWebSocketServer extends WebSocketServer {
  constructor(options: WsOptions) {
    super({ ...options, handleProtocols: selectSubprotocol });
  }
}

/**
 * ImSwitch's Socket.IO channel: `server_capabilities` on connect, then every active binary and
 * jpeg stream to every client as `frame` events (msgpack `{metadata, data|image}`), with
 * `frame_ack` flow control per client. Each client holds the streams it watches like any liveview
 * client, so a detector nobody watches stops. Upgrades arrive through the server's one upgrade
 * router (and its guards); socket.io never sees the HTTP server.
 */
export class ImswitchSocketChannel {
  private readonly io: Server;
  private readonly clients = new Set<SocketClient>();
  private readonly frames = new Map<StreamRecord, StreamFrames>();
  /** Upgraded sockets, destroyed at close if a client does not answer the close handshake. */
  private readonly sockets = new Set<Duplex>();
  private closing = false;

  constructor(
    private readonly streams: ImswitchStreams,
    private readonly logger: Logger,
  ) {
    // A server of its own that never listens: engine.io hooks its listeners there, and only the
    // upgrades the router hands over (handleUpgrade) reach it.
    this.io = new Server(createServer(), {
      path: SOCKET_IO_PATH,
      serveClient: false,
      // ImSwitch's web app connects with transports: ['websocket'] only.
      transports: ['websocket'],
      maxHttpBufferSize: MAX_CLIENT_MESSAGE_BYTES,
      wsEngine: BearerSafeWebSocketServer,
    });
    this.io.on('connection', (socket) => this.connected(socket));
    streams.listen({
      added: (record) => this.added(record),
      removed: (record) => this.removed(record),
    });
  }

  /** Connected clients (for tests and status). */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Registers the Socket.IO path with the server's upgrade router. */
  attach(routes: WebSocketRoutes): void {
    routes.route(
      SOCKET_IO_PATH,
      (req, socket, head, url) => this.upgrade(req, socket, head, url),
      SOCKET_IO_DOC,
    );
  }

  /** Disconnects every client and closes the engine. */
  async close(): Promise<void> {
    this.closing = true;
    await this.io.close();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    if (this.closing) throw new BadRequestError('the server is shutting down');
    parseQuery(SocketIoQuery, Object.fromEntries(url.searchParams), () => SOCKET_IO_HOW_TO_CONNECT);
    // A session id: the upgrade of a long-polling session, which this server never opened.
    if (url.searchParams.has('sid')) throw new BadRequestError(SOCKET_IO_HOW_TO_CONNECT);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    this.io.engine.handleUpgrade(req, socket, head);
  }

  private connected(socket: Socket): void {
    const client = new SocketClient(socket);
    this.clients.add(client);
    socket.on('frame_ack', (data: unknown) => client.ack(data));
    socket.on('disconnect', () => {
      this.clients.delete(client);
      client.close();
    });
    socket.emit('server_capabilities', SERVER_CAPABILITIES);
    for (const record of this.streams.list()) void this.watch(client, record);
  }

  private added(record: StreamRecord): void {
    for (const client of this.clients) void this.watch(client, record);
  }

  private removed(record: StreamRecord): void {
    for (const client of this.clients) {
      const session = client.sessions.get(record);
      client.sessions.delete(record);
      if (session && session !== 'joining') session.close('stream stopped');
    }
    this.frames.delete(record);
  }

  /** Adds a client's session to a stream's worker (starting it on demand). */
  private async watch(client: SocketClient, record: StreamRecord): Promise<void> {
    if (!SOCKET_PROTOCOLS.includes(record.protocol) || client.sessions.has(record)) return;
    client.sessions.set(record, 'joining');
    let worker;
    try {
      worker = await this.streams.hold(record);
    } catch (err) {
      client.sessions.delete(record);
      this.logger.warn(
        { detector: record.detector, protocol: record.protocol, err: errorMessage(err) },
        'Socket.IO client cannot watch the stream',
      );
      return;
    }
    try {
      // The stream may have stopped, or the client left, while the stream started.
      if (
        client.closed ||
        client.sessions.get(record) !== 'joining' ||
        !this.streams.isActive(record)
      ) {
        if (client.sessions.get(record) === 'joining') client.sessions.delete(record);
        return;
      }
      const frames = this.framesOf(record);
      const held = worker;
      const session = new SocketFrameSession(
        client,
        (unit: EncodedUnit<unknown>) => frames.payload(unit, held.params),
        (s) => {
          held.removeSession(s);
          if (client.sessions.get(record) === s) client.sessions.delete(record);
          // Stopped under its watchers (elsewhere, or shutdown): so is the ImSwitch stream.
          if (!held.running) this.streams.lost(record);
        },
      );
      client.sessions.set(record, session);
      held.addSession(session);
    } finally {
      this.streams.release(worker);
    }
  }

  private framesOf(record: StreamRecord): StreamFrames {
    let frames = this.frames.get(record);
    if (!frames) {
      const make = record.protocol === 'binary' ? binaryFrame : jpegFrame;
      frames = new StreamFrames(make, record.detector);
      this.frames.set(record, frames);
    }
    return frames;
  }
}
