import { expect } from 'chai';
import {
  decodeAck,
  decodeDeviceIdentity,
  encodeDiscovery,
  encodeReadMemory,
  encodeReadRegisters,
  encodeWriteMemory,
  encodeWriteRegisters,
  ipToNumber,
  pendingAckMs,
  readMemoryResult,
  readRegistersResult,
  statusName,
} from '../../src/plugins/genicam/gvcp.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('GVCP packets', () => {
  it('encodes commands with the 8-byte header: key 0x42, flags, command, length, id', () => {
    expect(encodeDiscovery(0xffff)).to.deep.equal(hex('42 11 0002 0000 ffff'));
    expect(encodeDiscovery(7, false)).to.deep.equal(hex('42 01 0002 0000 0007'));
    expect(encodeReadRegisters(0x1234, [0x0a00, 0x0d04])).to.deep.equal(
      hex('42 01 0080 0008 1234 00000a00 00000d04'),
    );
    expect(encodeWriteRegisters(2, [{ address: 0x0d18, value: 0x7f000001 }])).to.deep.equal(
      hex('42 01 0082 0008 0002 00000d18 7f000001'),
    );
    expect(encodeWriteRegisters(3, [{ address: 0x100, value: -1 }])).to.deep.equal(
      hex('42 01 0082 0008 0003 00000100 ffffffff'),
    );
  });

  it('rounds READMEM counts up to whole words; WRITEMEM carries the address then the data', () => {
    expect(encodeReadMemory(5, 0x10000, 13)).to.deep.equal(
      hex('42 01 0084 0008 0005 00010000 0000 0010'),
    );
    expect(encodeWriteMemory(6, 0x200, hex('01020304'))).to.deep.equal(
      hex('42 01 0086 0008 0006 00000200 01020304'),
    );
    expect(() => encodeWriteMemory(6, 0x200, hex('0102'))).to.throw(/multiple of 4/);
  });

  it('decodes acknowledges: READREG values, READMEM data, PENDING_ACK time, error status', () => {
    const readreg = decodeAck(hex('0000 0081 0008 1234 00000002 00000bb8'));
    expect(readreg).to.include({ status: 0, ack: 0x81, id: 0x1234 });
    expect(readRegistersResult(readreg)).to.deep.equal([2, 3000]);
    const readmem = decodeAck(hex('0000 0085 0008 0009 00000200 4c6f6361'));
    expect(Buffer.from(readMemoryResult(readmem)).toString()).to.equal('Loca');
    expect(pendingAckMs(decodeAck(hex('0000 0089 0004 0009 0000 01f4')))).to.equal(500);
    const refused = decodeAck(hex('8006 0083 0004 000a 0000 0000'));
    expect(statusName(refused.status)).to.equal('access denied');
    expect(statusName(0x8123)).to.equal('status 0x8123');
    expect(() => decodeAck(hex('0000 0081'))).to.throw(/too short/);
    expect(() => decodeAck(hex('0000 0081 0008 0001 00000002'))).to.throw(/truncated/);
  });

  it('decodes the identity in a DISCOVERY_ACK', () => {
    const data = new Uint8Array(0xf8);
    const view = new DataView(data.buffer);
    view.setUint16(0, 2);
    view.setUint16(2, 1);
    data.set([0x00, 0x00, 0x00, 0x0f], 0x08);
    data.set([0x31, 0x02, 0x03, 0x04], 0x0c);
    data.set([127, 0, 0, 1], 0x24);
    data.set(Buffer.from('Aravis\0'), 0x48);
    data.set(Buffer.from('Fake'), 0x68);
    data.set(Buffer.from('GV01'), 0xd8);
    data.set(Buffer.from('left'), 0xe8);
    expect(decodeDeviceIdentity(data)).to.deep.equal({
      vendor: 'Aravis',
      model: 'Fake',
      version: '',
      serial: 'GV01',
      userName: 'left',
      ip: '127.0.0.1',
      mac: '00:0f:31:02:03:04',
      gevVersion: '2.1',
    });
    expect(() => decodeDeviceIdentity(data.subarray(0, 100))).to.throw(/too short/);
  });

  it('turns dotted IPv4 into the destination register value', () => {
    expect(ipToNumber('127.0.0.1')).to.equal(0x7f000001);
    expect(ipToNumber('255.255.255.255')).to.equal(0xffffffff);
    expect(() => ipToNumber('1.2.3')).to.throw(/not an IPv4/);
  });
});
