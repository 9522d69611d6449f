import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { zipSync } from 'fflate';
import { FIXTURES_DIR } from '../helpers/server.js';
import {
  extractXml,
  GenApiError,
  NodeMap,
  parseXmlUrl,
  type RegisterPort,
} from '../../src/plugins/genicam/nodemap/index.js';

const XML = readFileSync(`${FIXTURES_DIR}genicam/nodes.xml`, 'utf8');

/** Device memory in a byte array, recording every access. */
class MemoryPort implements RegisterPort {
  readonly memory = new Uint8Array(0x200);
  readonly reads: { address: number; length: number }[] = [];
  readonly writes: { address: number; bytes: number[] }[] = [];
  async read(address: number, length: number): Promise<Uint8Array> {
    this.reads.push({ address, length });
    return this.memory.slice(address, address + length);
  }
  async write(address: number, data: Uint8Array): Promise<void> {
    this.writes.push({ address, bytes: [...data] });
    this.memory.set(data, address);
  }
  set(address: number, bytes: number[]): void {
    this.memory.set(bytes, address);
  }
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(GenApiError);
    expect((err as GenApiError).code).to.equal(code);
    expect((err as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a GenApiError ${code}`);
}

describe('GenApi node map', () => {
  let port: MemoryPort;
  let nodes: NodeMap;
  beforeEach(() => {
    port = new MemoryPort();
    port.set(0x100, [0x00, 0x00, 0x02, 0x80]); // Width 640, big-endian
    port.set(0x104, [0x00, 0x00, 0x00, 0x02]); // Binning 2: GenICam bits 31..28 = the low nibble
    port.set(0x108, [0xe8, 0x03, 0x00, 0x00]); // exposure register 1000, little-endian
    port.set(0x10c, [0xff, 0xf6]); // gain register -10, signed big-endian
    port.set(0x110, [0x41, 0xc8, 0x00, 0x00]); // 25.0 as a big-endian float
    port.set(0x114, [0x01, 0x08, 0x00, 0x01]); // Mono8
    port.set(0x120, [...Buffer.from('left\0')]);
    port.set(0x130, [...Buffer.from('Liveview')]);
    port.set(0x160, [0x2a, 0xfe, 0x00, 0x00]); // StatusLow 42, StatusTemp -2
    nodes = NodeMap.fromXml(XML, port);
  });

  it('reads the description attributes and every node', () => {
    expect(nodes).to.include({ vendor: 'Liveview', model: 'TestCam', schemaVersion: '1.1.0' });
    expect(nodes.has('StatusTemp')).to.equal(true);
    expect(nodes.names()).to.include.members(['Width', 'WidthReg', 'Device', 'StatusLow']);
  });

  it('Integer through a big-endian IntReg, with a range from an IntSwissKnife', async () => {
    expect(await nodes.getValue('Width')).to.equal(640);
    const info = await nodes.describe('Width');
    expect(info).to.deep.include({
      type: 'Integer',
      node: 'Integer',
      access: 'RW',
      min: 16,
      max: 512,
      inc: 8,
    });
    expect(info).to.include({ value: 640, displayName: 'Width', description: 'Image width' });
  });

  it('writes exact bytes, and checks range and increment before writing', async () => {
    await nodes.setValue('Width', 256);
    expect(port.writes).to.deep.equal([{ address: 0x100, bytes: [0, 0, 1, 0] }]);
    await rejects(
      nodes.setValue('Width', 520),
      'out-of-range',
      /'Width' must be between 16 and 512, got 520/,
    );
    await rejects(nodes.setValue('Width', 100), 'out-of-range', /16 plus a multiple of 8/);
    await rejects(nodes.setValue('Width', 'wide'), 'invalid-value', /must be an integer/);
    expect(port.writes).to.have.length(1);
  });

  it('MaskedIntReg fields (MSB-first numbering when big-endian) and read-modify-write', async () => {
    expect(await nodes.getValue('Binning')).to.equal(2);
    expect(await nodes.getValue('Reverse')).to.equal(false);
    await nodes.setValue('Reverse', true);
    // Bit 0 of a big-endian register is its most significant bit; binning (bits 31..28) stays.
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x104, bytes: [0x80, 0, 0, 0x02] });
    expect(await nodes.getValue('Binning')).to.equal(2);
  });

  it('Float through a Converter, FloatReg, SwissKnife with Constant and Expression', async () => {
    expect(await nodes.getValue('ExposureTime')).to.equal(10_000);
    await nodes.setValue('ExposureTime', 2500);
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x108, bytes: [250, 0, 0, 0] });
    expect(await nodes.describe('ExposureTime')).to.include({
      type: 'Float',
      unit: 'us',
      min: 10,
      max: 1e6,
    });
    expect(await nodes.getValue('Temperature')).to.equal(25);
    expect(await nodes.getValue('TemperatureF')).to.equal(77);
  });

  it('IntConverter over a signed register', async () => {
    expect(await nodes.getValue('GainTenths')).to.equal(-20);
    await nodes.setValue('GainTenths', 40);
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x10c, bytes: [0, 20] });
  });

  it('Enumeration: entry names, unavailable entries refused with the allowed list', async () => {
    expect(await nodes.getValue('PixelFormat')).to.equal('Mono8');
    expect((await nodes.describe('PixelFormat')).entries).to.deep.equal(['Mono8', 'Mono16']);
    await nodes.setValue('PixelFormat', 'Mono16');
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x114, bytes: [0x01, 0x10, 0x00, 0x07] });
    await rejects(
      nodes.setValue('PixelFormat', 'RGB8'),
      'invalid-value',
      /must be one of: Mono8, Mono16/,
    );
  });

  it('Command executes by writing its value; Category lists its features', async () => {
    await nodes.execute('AcquisitionStart');
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x118, bytes: [0, 0, 0, 1] });
    expect(await nodes.describe('AcquisitionStart')).to.include({ type: 'Command', access: 'WO' });
    expect((await nodes.describe('Root')).features).to.deep.equal(['ImageFormat', 'Acquisition']);
  });

  it('String, StringReg and Register', async () => {
    expect(await nodes.getValue('DeviceUserID')).to.equal('left');
    expect(await nodes.getValue('DeviceVendorName')).to.equal('Liveview');
    await nodes.setValue('DeviceUserID', 'right');
    expect(port.writes.at(-1)!.bytes.slice(0, 6)).to.deep.equal([...Buffer.from('right\0')]);
    await rejects(
      nodes.setValue('DeviceUserID', 'a name far too long'),
      'out-of-range',
      /at most 16/,
    );
    await rejects(nodes.setValue('DeviceVendorName', 'x'), 'not-writable', /access RO/);
    await nodes.setValue('LUT', '0a0b0c0d');
    expect(await nodes.getValue('LUT')).to.equal('0a0b0c0d');
  });

  it('access: locked, not implemented, imposed read-only', async () => {
    (nodes as unknown as { local: Map<string, number> }).local.set('Locked', 1);
    expect((await nodes.describe('Width')).access).to.equal('RO');
    await rejects(nodes.setValue('Width', 256), 'not-writable', /locked/);
    expect((await nodes.describe('Gamma')).access).to.equal('NI');
    expect((await nodes.describe('ReadOnlyCount')).access).to.equal('RO');
    await rejects(nodes.getValue('Nope'), 'not-found', /no feature 'Nope'/);
  });

  it('StructReg entries share the register; signed fields', async () => {
    expect(await nodes.getValue('StatusLow')).to.equal(42);
    expect(await nodes.getValue('StatusTemp')).to.equal(-2);
    await nodes.setValue('StatusLow', 7);
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x160, bytes: [7, 0xfe, 0, 0] });
  });

  it('caches register reads, except NoCache ones, and forgets after a write', async () => {
    await nodes.getValue('Width');
    await nodes.getValue('Width');
    expect(port.reads.filter((r) => r.address === 0x100)).to.have.length(1);
    await nodes.getValue('Temperature');
    await nodes.getValue('Temperature');
    expect(port.reads.filter((r) => r.address === 0x110)).to.have.length(2);
    port.set(0x100, [0, 0, 0, 64]);
    expect(await nodes.getValue('Width')).to.equal(640);
    await nodes.setValue('ExposureTime', 100);
    expect(await nodes.getValue('Width')).to.equal(64);
  });

  it('refuses XML that is not a GenICam description', () => {
    expect(() => NodeMap.fromXml('<html/>', port)).to.throw(GenApiError, /no RegisterDescription/);
  });
});

describe('GenICam XML location', () => {
  it('parses Local:, File: and http: URLs', () => {
    expect(parseXmlUrl('Local:arv-fake-camera.xml;10000;3e67')).to.deep.equal({
      kind: 'local',
      fileName: 'arv-fake-camera.xml',
      address: 0x10000,
      length: 0x3e67,
    });
    expect(parseXmlUrl('local:///Cam.zip;8000;1A2B?SchemaVersion=1.1.0')).to.include({
      fileName: 'Cam.zip',
      address: 0x8000,
    });
    expect(parseXmlUrl('File:///opt/cam.xml')).to.deep.equal({
      kind: 'file',
      url: 'File:///opt/cam.xml',
    });
    expect(parseXmlUrl('http://cam/x.xml').kind).to.equal('http');
    expect(() => parseXmlUrl('nonsense')).to.throw(/cannot read the GenICam XML URL/);
  });

  it('unzips a zipped XML and trims the NULs after a plain one', () => {
    const zip = zipSync({ 'cam.xml': new TextEncoder().encode('<RegisterDescription/>') });
    const padded = new Uint8Array(zip.length + 3);
    padded.set(zip);
    expect(extractXml(padded, 'Cam.zip')).to.equal('<RegisterDescription/>');
    expect(extractXml(new TextEncoder().encode('<a/>\0\0\0'), 'cam.xml')).to.equal('<a/>');
    expect(() => extractXml(zipSync({ 'readme.txt': new Uint8Array(1) }), 'x.zip')).to.throw(
      /no \.xml/,
    );
  });
});
