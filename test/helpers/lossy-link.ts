import dgram from 'node:dgram';

const STREAM_PORT_REGISTER = 0x0d00;
const WRITEREG = 0x0082;
const PACKETRESEND = 0x0040;
/** Blocks kept for resends. */
const HISTORY_BLOCKS = 64;

function bind(socket: dgram.Socket): Promise<number> {
  return new Promise((resolve) =>
    socket.bind({ address: '127.0.0.1', port: 0 }, () => resolve(socket.address().port)),
  );
}

/**
 * A lossy network hop between a client and a real GigE Vision camera on 127.0.0.1:3956, for
 * testing resends against a camera that does not implement them (Aravis's fake camera ignores
 * PACKETRESEND). Control traffic passes through unchanged, except that the stream is redirected
 * through the hop; the hop drops a share of stream packets on their first pass, keeps the
 * recent ones, and answers PACKETRESEND from them as a camera would.
 */
export class LossyLink {
  /** Stream packets dropped on their first pass. */
  dropped = 0;
  /** Packets sent again on request. */
  resent = 0;
  private readonly control = dgram.createSocket('udp4');
  private readonly upstream = dgram.createSocket('udp4');
  private readonly stream = dgram.createSocket('udp4');
  private readonly history = new Map<number, Map<number, Buffer>>();
  private client: { address: string; port: number } | undefined;
  private clientStreamPort = 0;
  private streamPort = 0;
  /** The port clients use as the camera's GVCP port. */
  controlPort = 0;

  constructor(private readonly lossRatio: number) {}

  /** Opens the sockets. */
  async open(): Promise<void> {
    this.controlPort = await bind(this.control);
    await bind(this.upstream);
    this.streamPort = await bind(this.stream);
    // The link shares the test's event loop: a deep buffer keeps the kernel from dropping more.
    this.stream.setRecvBufferSize(4 * 1024 * 1024);
    this.stream.setSendBufferSize(4 * 1024 * 1024);
    this.control.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
    this.upstream.on('message', (msg) => {
      if (this.client) this.control.send(msg, this.client.port, this.client.address);
    });
    this.stream.on('message', (msg) => this.fromCamera(msg));
  }

  /** Closes the sockets. */
  close(): void {
    for (const s of [this.control, this.upstream, this.stream]) s.close();
  }

  private fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.client = { address: rinfo.address, port: rinfo.port };
    const command = msg.readUInt16BE(2);
    if (command === PACKETRESEND) return this.resend(msg);
    if (command === WRITEREG) {
      const copy = Buffer.from(msg);
      for (let o = 8; o + 8 <= copy.length; o += 8) {
        if (copy.readUInt32BE(o) === STREAM_PORT_REGISTER) {
          this.clientStreamPort = copy.readUInt32BE(o + 4);
          // Port 0 stops the stream; anything else is redirected through us.
          if (this.clientStreamPort !== 0) copy.writeUInt32BE(this.streamPort, o + 4);
        }
      }
      msg = copy;
    }
    this.upstream.send(msg, 3956, '127.0.0.1');
  }

  private fromCamera(msg: Buffer): void {
    const block = msg.readUInt16BE(2);
    const packet = msg.readUIntBE(5, 3);
    let packets = this.history.get(block);
    if (!packets) {
      packets = new Map();
      this.history.set(block, packets);
      if (this.history.size > HISTORY_BLOCKS)
        this.history.delete(this.history.keys().next().value!);
    }
    packets.set(packet, msg);
    if (Math.random() < this.lossRatio) {
      this.dropped++;
      return;
    }
    this.forward(msg);
  }

  private resend(msg: Buffer): void {
    const block = msg.readUInt16BE(10);
    const first = msg.readUInt32BE(12) & 0xffffff;
    const last = msg.readUInt32BE(16) & 0xffffff;
    const packets = this.history.get(block);
    for (let id = first; id <= last; id++) {
      const p = packets?.get(id);
      if (p) {
        this.resent++;
        this.forward(p);
      }
    }
  }

  private forward(msg: Buffer): void {
    if (this.client && this.clientStreamPort !== 0)
      this.stream.send(msg, this.clientStreamPort, this.client.address);
  }
}
