import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { EncodedUnit } from '../../src/core/stream-worker.js';
import { BinarySession, MAX_BUFFERED_BYTES } from '../../src/protocols/binary/session.js';
import type { BinaryUnit } from '../../src/protocols/binary/worker.js';

/** A socket whose peer never reads: everything sent stays buffered. */
class UnreadSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sentBinary = 0;
  sentText: string[] = [];
  closedWith: [number, string] | undefined;

  send(data: Buffer | string): void {
    if (typeof data === 'string') {
      this.sentText.push(data);
      this.bufferedAmount += Buffer.byteLength(data);
    } else {
      this.sentBinary++;
      this.bufferedAmount += data.length;
    }
  }

  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
    this.readyState = 3;
  }
}

const PACKET_BYTES = 8 * 1024 * 1024;

function unit(frameNumber: number): EncodedUnit<BinaryUnit> {
  return {
    data: {
      packet: Buffer.alloc(PACKET_BYTES),
      compression: 'none',
      level: 0,
      rawBytes: PACKET_BYTES,
    } as BinaryUnit,
    frameNumber,
    timestamp: 0n,
    width: 2048,
    height: 2048,
  };
}

describe('binary session: one bound on every write', () => {
  it('a client that acknowledges without reading its socket never makes the server buffer past the bound', () => {
    const socket = new UnreadSocket();
    const session = new BinarySession(socket as unknown as WebSocket, 'test', 2, () => undefined);
    // 200 frames, each followed by a flood of acks (as an ack every 20 ms would do).
    for (let n = 0; n < 200; n++) {
      session.send(unit(n));
      for (let i = 0; i < 5; i++) session.acknowledge();
    }
    expect(socket.bufferedAmount).to.be.at.most(MAX_BUFFERED_BYTES + PACKET_BYTES + 4096);
    expect(socket.sentBinary).to.be.at.least(MAX_BUFFERED_BYTES / PACKET_BYTES);
    expect(session.framesSkipped).to.be.greaterThan(150);
  });

  it('frames flow again once the socket drains', () => {
    const socket = new UnreadSocket();
    const session = new BinarySession(socket as unknown as WebSocket, 'test', 2, () => undefined);
    for (let n = 0; n < 20; n++) {
      session.send(unit(n));
      session.acknowledge();
    }
    const sent = socket.sentBinary;
    socket.bufferedAmount = 0;
    session.send(unit(100));
    expect(socket.sentBinary).to.equal(sent + 1);
  });

  it('control messages to a client that stopped reading close it (1008) instead of piling up', () => {
    const socket = new UnreadSocket();
    let closed = 0;
    const session = new BinarySession(socket as unknown as WebSocket, 'test', 2, () => closed++);
    socket.bufferedAmount = MAX_BUFFERED_BYTES + 1;
    for (let i = 0; i < 1000; i++) session.sendJson({ type: 'status' });
    expect(socket.sentText).to.have.length(0);
    expect(socket.closedWith?.[0]).to.equal(1008);
    expect(closed).to.equal(1);
  });
});
