import { expect } from 'chai';
import {
  decodeGvsp,
  encodeGvspBlock,
  encodeGvspLeader,
  encodeGvspPayload,
  encodeGvspTrailer,
  encodePacketResend,
  type GvspLeader,
  type GvspPayload,
  type GvspTrailer,
} from '../../src/plugins/genicam/gvsp.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

/** A Mono8 640x480 leader, block 7, written by hand from the GVSP layout. */
const LEADER = bytes(
  ...[0x00, 0x00, 0x00, 0x07, 0x01, 0x00, 0x00, 0x00], // status, block id, format 1, packet id 0
  ...[0x00, 0x00, 0x00, 0x01], // flags, payload type image
  ...[0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02], // timestamp
  ...[0x01, 0x08, 0x00, 0x01], // Mono8
  ...[0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x01, 0xe0], // 640 x 480
  ...[0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20], // offsets 16, 32
  ...[0x00, 0x04, 0x00, 0x00], // padding x 4, y 0
);

describe('GVSP codec', () => {
  it('decodes a standard-id image leader', () => {
    const p = decodeGvsp(LEADER) as GvspLeader;
    expect(p).to.deep.include({
      kind: 'leader',
      status: 0,
      blockId: 7n,
      packetId: 0,
      format: 1,
      extendedIds: false,
      payloadType: 1,
      timestamp: 0x1_0000_0002n,
    });
    expect(p.image).to.deep.equal({
      pixelFormat: 0x01080001,
      width: 640,
      height: 480,
      offsetX: 16,
      offsetY: 32,
      paddingX: 4,
      paddingY: 0,
    });
  });

  it('encodes the same leader byte for byte', () => {
    const encoded = encodeGvspLeader({
      blockId: 7,
      timestamp: 0x1_0000_0002n,
      pixelFormat: 0x01080001,
      width: 640,
      height: 480,
      offsetX: 16,
      offsetY: 32,
      paddingX: 4,
    });
    expect([...encoded]).to.deep.equal([...LEADER]);
  });

  it('decodes an extended-id (GigE Vision 2.0) payload packet', () => {
    const packet = bytes(
      ...[0x01, 0x00, 0x00, 0x00, 0x83, 0x00, 0x00, 0x00], // status resent, flags, EI | payload
      ...[0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05], // block id 2^32 + 5
      ...[0x00, 0x01, 0x00, 0x00], // packet id 65536
      ...[0xaa, 0xbb, 0xcc],
    );
    const p = decodeGvsp(packet) as GvspPayload;
    expect(p).to.deep.include({
      kind: 'payload',
      status: 0x0100,
      blockId: 0x1_0000_0005n,
      packetId: 65536,
      format: 3,
      extendedIds: true,
    });
    expect([...p.data]).to.deep.equal([0xaa, 0xbb, 0xcc]);
    const encoded = encodeGvspPayload(
      { blockId: 0x1_0000_0005n, packetId: 65536, extendedIds: true, status: 0x0100 },
      bytes(0xaa, 0xbb, 0xcc),
    );
    expect([...encoded]).to.deep.equal([...packet]);
  });

  it('decodes and encodes a trailer (payload type, size y)', () => {
    const packet = bytes(
      ...[0x00, 0x00, 0xff, 0xff, 0x02, 0x00, 0x01, 0x2c], // block 65535, trailer, packet id 300
      ...[0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0xe0], // image, 480 lines
    );
    const p = decodeGvsp(packet) as GvspTrailer;
    expect(p).to.deep.include({
      kind: 'trailer',
      blockId: 65535n,
      packetId: 300,
      payloadType: 1,
      sizeY: 480,
    });
    expect([...encodeGvspTrailer({ blockId: 65535, packetId: 300, sizeY: 480 })]).to.deep.equal([
      ...packet,
    ]);
  });

  it('reads the image part of an extended-chunk (0x4001) leader', () => {
    const leader = encodeGvspLeader({
      blockId: 1,
      payloadType: 0x4001,
      pixelFormat: 0x01100007,
      width: 4,
      height: 2,
      extendedIds: true,
    });
    expect(leader.length).to.equal(20 + 36);
    const p = decodeGvsp(leader) as GvspLeader;
    expect(p.payloadType).to.equal(0x4001);
    expect(p.image).to.include({ pixelFormat: 0x01100007, width: 4, height: 2 });
  });

  it('passes other payload types and packet formats through undecoded', () => {
    const leader = encodeGvspLeader({ blockId: 1, pixelFormat: 0, width: 0, height: 0 });
    leader[8 + 3] = 0x03; // payload type "file"
    expect(decodeGvsp(leader)).to.include({ kind: 'leader', image: null, payloadType: 3 });
    const allIn = bytes(0, 0, 0, 1, 0x04, 0, 0, 0, 9, 9);
    const p = decodeGvsp(allIn);
    expect(p).to.include({ kind: 'other', format: 4 });
    expect(p.kind === 'other' && [...p.data]).to.deep.equal([9, 9]);
  });

  it('throws clear errors on short packets', () => {
    expect(() => decodeGvsp(bytes(0, 0, 0, 1, 1))).to.throw(/GVSP packet too short: 5 bytes/);
    expect(() => decodeGvsp(bytes(0, 0, 0, 0, 0x83, 0, 0, 0, 0, 0))).to.throw(
      /too short: 10 bytes \(header needs 20\)/,
    );
    expect(() => decodeGvsp(LEADER.subarray(0, 30))).to.throw(/image leader too short: 22/);
    expect(() => decodeGvsp(LEADER.subarray(0, 12))).to.throw(/leader too short: 4/);
    expect(() => decodeGvsp(bytes(0, 0, 0, 1, 2, 0, 0, 3, 0))).to.throw(/trailer too short/);
  });

  it('splits a block into leader, payload packets and trailer', () => {
    const data = Uint8Array.from({ length: 10 }, (_, i) => i);
    const packets = encodeGvspBlock(
      { blockId: 3, pixelFormat: 0x01080001, width: 5, height: 2 },
      data,
      4,
    ).map(decodeGvsp);
    expect(packets.map((p) => [p.kind, p.packetId])).to.deep.equal([
      ['leader', 0],
      ['payload', 1],
      ['payload', 2],
      ['payload', 3],
      ['trailer', 4],
    ]);
    expect(packets.flatMap((p) => (p.kind === 'payload' ? [...p.data] : []))).to.deep.equal([
      ...data,
    ]);
  });
});

describe('GVCP PACKETRESEND_CMD', () => {
  it('standard ids: block id and 24-bit packet ids, no acknowledge asked for', () => {
    expect([...encodePacketResend(0x1234, 0, 7, 5, 9, false)]).to.deep.equal([
      ...[0x42, 0x00, 0x00, 0x40, 0x00, 0x0c, 0x12, 0x34], // key, flags, command, length, id
      ...[0x00, 0x00, 0x00, 0x07], // stream channel 0, block id 7
      ...[0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x09], // first, last
    ]);
  });

  it('extended ids: flag 0x10, 32-bit packet ids, then the 64-bit block id', () => {
    expect([...encodePacketResend(0x1234, 1, 0x1_0000_0007n, 5, 0x01000000, true)]).to.deep.equal([
      ...[0x42, 0x10, 0x00, 0x40, 0x00, 0x14, 0x12, 0x34],
      ...[0x00, 0x01, 0x00, 0x00], // stream channel 1, 16-bit block id unused
      ...[0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00],
      ...[0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07],
    ]);
  });
});
