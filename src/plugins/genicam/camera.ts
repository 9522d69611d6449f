import type { Logger } from '../../index.js';
import { NodeMap } from './genapi/index.js';
import { readDeviceXml } from './device-xml.js';
import { GvcpClient } from './gvcp-client.js';
import { Bootstrap, decodeDeviceIdentity, ipToNumber, type DeviceIdentity } from './gvcp.js';
import { encodePacketResend } from './gvsp.js';
import type { GvspFrame } from './gvsp-receiver.js';
import { ThreadedGvspReceiver } from './gvsp-threaded-receiver.js';
import type { GenicamOptions } from './options.js';

/** Bytes of bootstrap memory that hold the identity (as a DISCOVERY_ACK carries it). */
const IDENTITY_BYTES = 0xf8;

/**
 * One connection to a GigE Vision camera: its control channel, its node map (from its own XML)
 * and, while acquiring, its stream receiver.
 */
export class GenicamCamera {
  private receiver: ThreadedGvspReceiver | undefined;

  private constructor(
    /** The control channel. */
    readonly client: GvcpClient,
    /** The camera's features. */
    readonly nodes: NodeMap,
    /** What the camera says about itself. */
    readonly identity: DeviceIdentity,
    /** Where its XML came from. */
    readonly xmlUrl: string,
    /** Device timestamp ticks per second (0 when the camera does not say). */
    readonly tickFrequency: bigint,
    private readonly options: GenicamOptions,
    private readonly logger: Logger,
  ) {}

  /** Opens the control channel and reads the identity and the XML (no control privilege yet). */
  static async connect(
    address: string,
    options: GenicamOptions,
    logger: Logger,
  ): Promise<GenicamCamera> {
    const client = new GvcpClient(
      {
        address,
        port: options.control_port,
        timeoutMs: options.gvcp_timeout_ms,
        heartbeatMs: options.heartbeat_ms,
      },
      logger,
    );
    await client.open();
    try {
      const identity = decodeDeviceIdentity(await client.readMemory(0, IDENTITY_BYTES));
      // One register per command: not every device answers multi-register reads in full.
      const high = await client.readRegister(Bootstrap.timestampTickFrequencyHigh);
      const low = await client.readRegister(Bootstrap.timestampTickFrequencyLow);
      const { url, xml } = await readDeviceXml(client);
      const nodes = NodeMap.fromXml(xml, client);
      const ticks = (BigInt(high) << 32n) | BigInt(low);
      return new GenicamCamera(client, nodes, identity, url, ticks, options, logger);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** True while a stream receiver is open. */
  get streaming(): boolean {
    return this.receiver !== undefined;
  }

  /** Stream statistics while acquiring. */
  get streamStats(): ThreadedGvspReceiver['stats'] | undefined {
    return this.receiver?.stats;
  }

  /**
   * Points the camera's stream channel at a new receiver (on the address the camera reaches us
   * by) and starts acquisition with the XML's AcquisitionStart.
   */
  async startStream(onFrame: (f: GvspFrame) => void): Promise<void> {
    const client = this.client;
    const receiver = new ThreadedGvspReceiver({
      host: client.localAddress,
      receiveBufferBytes: this.options.receive_buffer_bytes,
      frameTimeoutMs: this.options.frame_timeout_ms,
      resendDelayMs: this.options.resend_delay_ms,
      requestResend: (blockId, first, last) =>
        client.sendUnacknowledged(
          encodePacketResend(client.allocateId(), 0, blockId, first, last, false),
        ),
    });
    receiver.on('frame', onFrame);
    receiver.on('error', (err: Error) =>
      this.logger.error({ err: err.message }, 'GVSP receiver failed: frames stop until restarted'),
    );
    receiver.on('incomplete', (blockId: bigint, missing: number) =>
      this.logger.debug({ blockId: String(blockId), missing }, 'incomplete frame dropped'),
    );
    await receiver.open();
    this.receiver = receiver;
    if (receiver.stats.receiveBufferBytes < this.options.receive_buffer_bytes)
      this.logger.warn(
        { asked: this.options.receive_buffer_bytes, got: receiver.stats.receiveBufferBytes },
        'the OS limits the stream socket buffer (raise net.core.rmem_max): frames may be lost',
      );
    if (this.options.packet_size > 0) {
      const current = await client.readRegister(Bootstrap.streamChannelPacketSize);
      // Keep the flag bits (do-not-fragment, big-endian) and change the size only.
      await client.writeRegister(
        Bootstrap.streamChannelPacketSize,
        ((current & 0xffff0000) | this.options.packet_size) >>> 0,
      );
    }
    await client.writeRegister(Bootstrap.streamChannelDestination, ipToNumber(client.localAddress));
    await client.writeRegister(Bootstrap.streamChannelPort, receiver.port);
    if (this.nodes.has('AcquisitionMode')) {
      const mode = await this.nodes.describe('AcquisitionMode');
      if (mode.access === 'RW' && mode.entries?.includes('Continuous'))
        await this.nodes.setValue('AcquisitionMode', 'Continuous');
    }
    await this.nodes.execute('AcquisitionStart');
  }

  /** Stops acquisition and closes the receiver; tolerates a camera that no longer answers. */
  async stopStream(): Promise<void> {
    const receiver = this.receiver;
    this.receiver = undefined;
    try {
      if (this.client.hasControl) {
        await this.nodes.execute('AcquisitionStop');
        // A stream port of 0 tells the camera to stop sending to us.
        await this.client.writeRegister(Bootstrap.streamChannelPort, 0);
      }
    } finally {
      await receiver?.close();
    }
  }

  /** Stops everything, releases the control privilege and closes the channel. */
  async close(): Promise<void> {
    await this.stopStream().catch(() => undefined);
    await this.client.close();
  }
}
