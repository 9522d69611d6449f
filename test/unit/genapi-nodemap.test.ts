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
} from '../../src/plugins/genicam/genapi/index.js';

const fixture = (name: string) => readFileSync(`${FIXTURES_DIR}genicam/${name}`, 'utf8');

/** Device memory as a byte array that records every access, so tests see the exact bytes. */
class MemoryPort implements RegisterPort {
  readonly memory = new Uint8Array(0x400);
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

  set(address: number, bytes: ArrayLike<number>): void {
    this.memory.set(bytes, address);
  }

  u32be(address: number, value: number): void {
    new DataView(this.memory.buffer).setUint32(address, value);
  }

  readsAt(address: number): number {
    return this.reads.filter((r) => r.address === address).length;
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
  expect.fail(`expected GenApiError(${code})`);
}

describe('GenApi NodeMap on the fixture with every node type', () => {
  let port: MemoryPort;
  let nodes: NodeMap;

  beforeEach(() => {
    port = new MemoryPort();
    port.u32be(0x100, 640); // Width, big-endian
    port.set(0x104, [0xe0, 0x01, 0, 0]); // Height 480, little-endian by default
    port.set(0x108, [0, 0, 0, 0x12]); // binning H = 2 (bits 31..28), V = 1 (bits 27..24)
    port.u32be(0x10c, 0x01080001); // Mono8
    port.set(0x110, [0xd0, 0x07, 0, 0]); // exposure register 2000, little-endian
    port.set(0x114, [0x41, 0xc8, 0, 0]); // 25.0f big-endian
    new DataView(port.memory.buffer).setFloat64(0x118, 30, true);
    port.u32be(0x128, 50); // line time register
    port.u32be(0x12c, 100); // resulting rate
    port.set(0x130, [0x80, 0xfe, 0x00, 0x2a]); // flag 1, temp -2, low 42
    port.set(0x138, [0xff, 0xf6]); // temperature -10
    port.set(0x140, [...Buffer.from('Liveview')]);
    port.set(0x150, [0xde, 0xad, 0xbe, 0xef]);
    for (let i = 0; i < 8; i++) port.u32be(0x200 + 4 * i, 10 * i);
    nodes = NodeMap.fromXml(fixture('genapi-nodes.xml'), port);
  });

  it('reads the RegisterDescription attributes and lists all nodes, Groups included', () => {
    expect(nodes).to.include({
      vendor: 'Liveview',
      model: 'GenApiTestCam',
      schemaVersion: '1.1.0',
    });
    expect(nodes.names()).to.include.members(['Width', 'WidthReg', 'StatusTemp', 'LutValue']);
    expect(nodes.has('Device')).to.equal(true);
    expect(nodes.has('Mono16')).to.equal(false); // entries belong to their enumeration
    expect(port.reads).to.deep.equal([]); // loading touches no register
  });

  it('Integer over a big-endian IntReg with pMin/pMax from IntSwissKnifes and pInc', async () => {
    expect(await nodes.getValue('Width')).to.equal(640);
    expect(await nodes.describe('Width')).to.deep.equal({
      name: 'Width',
      type: 'Integer',
      displayName: 'Image Width',
      description: 'Width of the image',
      visibility: 'Beginner',
      unit: 'px',
      access: 'RW',
      min: 16, // BinningHorizontal * 8
      max: 1024, // 2048 / BinningHorizontal
      inc: 4,
      value: 640,
    });
  });

  it('writes exact big-endian bytes and checks range and increment first', async () => {
    await nodes.setValue('Width', 800);
    expect(port.writes).to.deep.equal([{ address: 0x100, bytes: [0, 0, 0x03, 0x20] }]);
    await rejects(nodes.setValue('Width', 1028), 'out-of-range', /Width to 1028.*16\.\.1024/);
    await rejects(nodes.setValue('Width', 802), 'out-of-range', /Width to 802.*16 \+ k \* 4/);
    await rejects(
      nodes.setValue('Width', 'wide'),
      'invalid-value',
      /Width: "wide" is not a number/,
    );
    await rejects(nodes.setValue('Width', 640.5), 'invalid-value', /not an integer/);
    expect(port.writes).to.have.length(1);
    await nodes.setValue('Width', '0x200'); // REST bodies are text
    expect(port.writes[1]).to.deep.equal({ address: 0x100, bytes: [0, 0, 0x02, 0] });
  });

  it('registers without Endianess are little-endian; Addresses add up', async () => {
    expect(await nodes.getValue('Height')).to.equal(480);
    await nodes.setValue('Height', 0x1e1);
    expect(port.writes).to.deep.equal([{ address: 0x104, bytes: [0xe1, 0x01, 0, 0] }]);
  });

  it('MaskedIntReg fields: LSB/MSB and Bit, MSB-first when big-endian, read-modify-write', async () => {
    expect(await nodes.getValue('BinningHorizontal')).to.equal(2);
    expect(await nodes.getValue('BinningVertical')).to.equal(1);
    expect(await nodes.getValue('ReverseX')).to.equal(false);
    await nodes.setValue('BinningVertical', 3);
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x108, bytes: [0, 0, 0, 0x32] });
    await nodes.setValue('ReverseX', true);
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x108, bytes: [0x80, 0, 0, 0x32] });
    await rejects(nodes.setValue('BinningVertical', 16), 'out-of-range', /0\.\.15/);
    expect(await nodes.describe('BinningVertical')).to.include({ min: 0, max: 15, inc: 1 });
    // All fields of the register came from one read.
    expect(port.readsAt(0x108)).to.equal(1);
  });

  it('Enumeration: symbolic names, unavailable entries, set by name or by value', async () => {
    expect(await nodes.getValue('PixelFormat')).to.equal('Mono8'); // EnumEntry_PixelFormat_ stripped
    expect((await nodes.describe('PixelFormat')).entries).to.deep.equal(['Mono8', 'Mono16']);
    await nodes.setValue('PixelFormat', 'Mono16');
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x10c, bytes: [0x01, 0x10, 0x00, 0x07] });
    await nodes.setValue('PixelFormat', 0x01080001);
    expect(await nodes.getValue('PixelFormat')).to.equal('Mono8');
    await nodes.setValue('PixelFormat', '0x01100007'); // a number in a REST body
    expect(await nodes.getValue('PixelFormat')).to.equal('Mono16');
    await rejects(
      nodes.setValue('PixelFormat', 'RGB8'),
      'invalid-value',
      /PixelFormat to "RGB8": it is not available now; available entries: Mono8, Mono16/,
    );
    await rejects(nodes.setValue('PixelFormat', 'Bayer'), 'invalid-value', /is not an entry/);
    await nodes.setValue('ColorSensor', 1);
    await nodes.setValue('PixelFormat', 'RGB8');
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x10c, bytes: [0x02, 0x18, 0x00, 0x14] });
    port.u32be(0x10c, 5);
    nodes.invalidate();
    await rejects(
      nodes.getValue('PixelFormat'),
      'invalid-value',
      /device value 5 matches no entry/,
    );
  });

  it('Float over a Converter with a pVariable, over a little-endian IntReg', async () => {
    expect(await nodes.getValue('ExposureTime')).to.equal(1000);
    expect(await nodes.describe('ExposureTime')).to.include({
      type: 'Float',
      unit: 'us',
      visibility: 'Expert',
      description: 'Exposure time',
      min: 10,
      max: 100000,
    });
    await nodes.setValue('ExposureTime', 250);
    expect(port.writes).to.deep.equal([{ address: 0x110, bytes: [0xf4, 0x01, 0, 0] }]);
    await rejects(
      nodes.setValue('ExposureTime', 5),
      'out-of-range',
      /ExposureTime to 5.*10\.\.100000/,
    );
    expect(await nodes.getValue('ExposureMs')).to.equal(0.25); // SwissKnife over the Float
  });

  it('FloatReg: 4 bytes big-endian and 8 bytes little-endian', async () => {
    expect(await nodes.getValue('Gain')).to.equal(25);
    await nodes.setValue('Gain', 12.5);
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x114, bytes: [0x41, 0x48, 0, 0] });
    expect(await nodes.getValue('FrameRate')).to.equal(30);
    await nodes.setValue('FrameRate', 1.5);
    expect(port.writes.at(-1)).to.deep.equal({
      address: 0x118,
      bytes: [0, 0, 0, 0, 0, 0, 0xf8, 0x3f],
    });
    await rejects(nodes.setValue('Gain', 49), 'out-of-range', /0\.\.48/);
  });

  it('StringReg, String over it and String with its own Value', async () => {
    expect(await nodes.getValue('DeviceUserID')).to.equal('Liveview');
    expect(await nodes.getValue('DeviceLabel')).to.equal('Liveview');
    await nodes.setValue('DeviceLabel', 'Cam-1');
    const expected = [...Buffer.from('Cam-1'), ...new Array(11).fill(0)];
    expect(port.writes).to.deep.equal([{ address: 0x140, bytes: expected }]);
    await rejects(
      nodes.setValue('DeviceUserID', 'x'.repeat(17)),
      'out-of-range',
      /17 bytes, at most 16/,
    );
    expect(await nodes.getValue('Comment')).to.equal('hello');
    await nodes.setValue('Comment', 'bye');
    expect(await nodes.getValue('Comment')).to.equal('bye');
    expect(await nodes.describe('Comment')).to.include({ type: 'String', access: 'RW' });
  });

  it('Command: execute writes CommandValue (or pCommandValue); done once the device clears it', async () => {
    await nodes.execute('AcquisitionStart');
    expect(port.writes).to.deep.equal([{ address: 0x120, bytes: [0, 0, 0, 1] }]);
    expect(await nodes.getValue('AcquisitionStart')).to.equal(false);
    port.u32be(0x120, 0); // the device finished
    expect(await nodes.getValue('AcquisitionStart')).to.equal(true); // not from the cache
    await nodes.execute('AcquisitionStop');
    expect(port.writes.at(-1)).to.deep.equal({ address: 0x120, bytes: [0, 0, 0, 2] });
    await rejects(nodes.execute('Width'), 'unsupported', /Width is a Integer, not a Command/);
  });

  it('access: pIsLocked makes RO, pIsImplemented NI, pIsAvailable NA, ImposedAccessMode RO', async () => {
    expect((await nodes.describe('OffsetX')).access).to.equal('RW');
    await nodes.setValue('TLParamsLocked', 1);
    expect((await nodes.describe('OffsetX')).access).to.equal('RO');
    await rejects(
      nodes.setValue('OffsetX', 8),
      'not-writable',
      /Cannot write OffsetX: access is RO/,
    );
    expect(await nodes.getValue('OffsetX')).to.equal(0);

    expect((await nodes.describe('FancyFeature')).access).to.equal('NI');
    await rejects(nodes.getValue('FancyFeature'), 'not-readable', /not implemented/);
    expect((await nodes.describe('TriggerDelay')).access).to.equal('NA');
    await rejects(nodes.setValue('TriggerDelay', 1), 'not-writable', /not available now/);
    await nodes.setValue('TriggerEnabled', true);
    expect((await nodes.describe('TriggerDelay')).access).to.equal('RW');

    expect((await nodes.describe('SensorWidth')).access).to.equal('RO');
    await rejects(nodes.setValue('SensorWidth', 1), 'not-writable', /SensorWidth/);
    expect(port.writes).to.deep.equal([]);
  });

  it('StructReg entries share the register (one read) and keep their own access and sign', async () => {
    expect(await nodes.getValue('StatusLow')).to.equal(42);
    expect(await nodes.getValue('StatusTemp')).to.equal(-2);
    expect(await nodes.getValue('StatusFlag')).to.equal(1);
    expect(port.readsAt(0x130)).to.equal(1);
    await rejects(nodes.setValue('StatusLow', 1), 'not-writable', /StatusLow/);
    await nodes.setValue('StatusTemp', -3);
    expect(port.writes).to.deep.equal([{ address: 0x130, bytes: [0x80, 0xfd, 0x00, 0x2a] }]);
    await rejects(nodes.setValue('StatusTemp', 128), 'out-of-range', /-128\.\.127/);
  });

  it('IntSwissKnife with Constant and Expression; IntConverter both ways', async () => {
    expect(await nodes.getValue('PayloadSize')).to.equal(640 * 480);
    expect(await nodes.describe('PayloadSize')).to.include({ type: 'Integer', access: 'RO' });
    await rejects(nodes.setValue('PayloadSize', 1), 'not-writable', /access is RO/);
    expect(await nodes.getValue('LineTime')).to.equal(100);
    await nodes.setValue('LineTime', 60);
    expect(port.writes).to.deep.equal([{ address: 0x128, bytes: [0, 0, 0, 30] }]);
  });

  it('signed little-endian register with hex and negative bounds', async () => {
    expect(await nodes.describe('BlackLevel')).to.include({ min: -64, max: 63, value: 0 });
    await nodes.setValue('BlackLevel', -5);
    expect(port.writes).to.deep.equal([{ address: 0x13c, bytes: [0xfb, 0xff] }]);
    expect(await nodes.getValue('BlackLevel')).to.equal(-5);
  });

  it('pIndex selects the register: Address + index * Offset', async () => {
    expect(await nodes.getValue('LutValue')).to.equal(0);
    await nodes.setValue('LutIndex', 3);
    expect(await nodes.getValue('LutValue')).to.equal(30);
    await nodes.setValue('LutValue', 7);
    expect(port.writes).to.deep.equal([{ address: 0x20c, bytes: [0, 0, 0, 7] }]);
    expect(port.reads.map((r) => r.address)).to.deep.equal([0x200, 0x20c]);
  });

  it('raw Register is a hex string', async () => {
    expect(await nodes.getValue('RawBlock')).to.equal('deadbeef');
    await nodes.setValue('RawBlock', 'cafebabe');
    expect(port.writes).to.deep.equal([{ address: 0x150, bytes: [0xca, 0xfe, 0xba, 0xbe] }]);
    await rejects(nodes.setValue('RawBlock', 'cafe'), 'invalid-value', /4 bytes as hex/);
    expect(await nodes.describe('RawBlock')).to.include({ type: 'Register' });
  });

  it('caches registers: WriteThrough, invalidate(), NoCache, WriteAround, pInvalidator', async () => {
    await nodes.getValue('Width');
    await nodes.getValue('Width');
    expect(port.readsAt(0x100)).to.equal(1);
    nodes.invalidate();
    await nodes.getValue('Width');
    expect(port.readsAt(0x100)).to.equal(2);

    await nodes.getValue('Temperature');
    expect(await nodes.getValue('Temperature')).to.equal(-10);
    expect(port.readsAt(0x138)).to.equal(2); // NoCache

    expect(await nodes.getValue('ResultingRate')).to.equal(100);
    await nodes.getValue('ResultingRate');
    expect(port.readsAt(0x12c)).to.equal(1);
    port.u32be(0x12c, 80); // the device recomputes it when Width changes
    await nodes.setValue('Width', 320);
    expect(await nodes.getValue('Width')).to.equal(320); // WriteThrough: no read
    expect(port.readsAt(0x100)).to.equal(2);
    expect(await nodes.getValue('ResultingRate')).to.equal(80); // pInvalidator Width
    expect(port.readsAt(0x12c)).to.equal(2);

    await nodes.setValue('Mode', 3);
    expect(await nodes.getValue('Mode')).to.equal(3);
    expect(port.readsAt(0x134)).to.equal(1); // WriteAround: read back after the write
  });

  it('writes invalidate other registers over the same bytes', async () => {
    expect(await nodes.getValue('BinningHorizontal')).to.equal(2);
    await nodes.setValue('BinningHorizontal', 4);
    // WidthMin/WidthMax are formulas over the binning: recomputed, not cached.
    expect(await nodes.describe('Width')).to.include({ min: 32, max: 512 });
    expect(await nodes.getValue('BinningVertical')).to.equal(1);
  });

  it('reports unknown features, categories, other ports and bad XML clearly', async () => {
    await rejects(nodes.getValue('Nope'), 'not-found', /No feature named Nope/);
    await rejects(nodes.describe('Nope'), 'not-found', /Nope/);
    await rejects(nodes.getValue('Root'), 'unsupported', /Root is a Category/);
    expect(await nodes.describe('ImageFormat')).to.deep.equal({
      name: 'ImageFormat',
      type: 'Category',
      displayName: 'Image Format',
      visibility: 'Beginner',
      access: 'RO',
      features: ['Width', 'Height', 'PixelFormat'],
    });
    await rejects(nodes.getValue('ChunkCounter'), 'unsupported', /port ChunkPort.*device port/);
    await rejects(nodes.describe('Device'), 'unsupported', /Port node, not a feature/);
    expect(() => NodeMap.fromXml('<html><body/></html>', port)).to.throw(
      GenApiError,
      /root is <html>, expected <RegisterDescription>/,
    );
    expect(() => NodeMap.fromXml('<RegisterDescription><Integer>', port)).to.throw(
      GenApiError,
      /Not a GenApi XML file/,
    );
    expect(() => NodeMap.fromXml('not xml at all', port)).to.throw(GenApiError);
  });
});

describe('GenApi XML location and extraction', () => {
  it('parses Local, File and http URLs', () => {
    expect(parseXmlUrl('Local:Name.zip;8000;3A4F?SchemaVersion=1.1.0')).to.deep.equal({
      kind: 'local',
      fileName: 'Name.zip',
      address: 0x8000,
      length: 0x3a4f,
    });
    expect(parseXmlUrl('local:///cam.xml;0x10000;0x200\0\0')).to.deep.equal({
      kind: 'local',
      fileName: 'cam.xml',
      address: 0x10000,
      length: 0x200,
    });
    expect(parseXmlUrl('File:///C:/cams/x.xml')).to.deep.equal({
      kind: 'file',
      url: 'File:///C:/cams/x.xml',
    });
    expect(parseXmlUrl('http://example.com/x.zip')).to.deep.equal({
      kind: 'http',
      url: 'http://example.com/x.zip',
    });
    expect(() => parseXmlUrl('ftp://x/y.xml')).to.throw(GenApiError, /Unsupported GenICam XML URL/);
    expect(() => parseXmlUrl('Local:broken')).to.throw(GenApiError, /Local:<file>/);
  });

  it('unzips the first .xml entry, even with padding after the zip', () => {
    const xml = '<RegisterDescription VendorName="Z"/>';
    const zip = zipSync({
      'readme.txt': new TextEncoder().encode('not this'),
      'device.xml': new TextEncoder().encode(xml),
    });
    const padded = new Uint8Array(zip.length + 3);
    padded.set(zip);
    expect(extractXml(padded, 'Name.zip')).to.equal(xml);
    const noXml = zipSync({ 'a.txt': new Uint8Array([65]) });
    expect(() => extractXml(noXml, 'x.ZIP')).to.throw(
      GenApiError,
      /no \.xml file \(found a\.txt\)/,
    );
    expect(() => extractXml(new Uint8Array([1, 2, 3]), 'x.zip')).to.throw(GenApiError, /zip/);
  });

  it('decodes plain XML and strips the NUL padding', () => {
    const bytes = new Uint8Array([...Buffer.from('<a>é</a>'), 0, 0, 0]);
    expect(extractXml(bytes, 'cam.xml')).to.equal('<a>é</a>');
  });
});
