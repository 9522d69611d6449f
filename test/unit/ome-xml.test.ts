import { expect } from 'chai';
import type { Frame } from '../../src/core/frame.js';
import { omeXml, escapeXml } from '../../src/recording/ome-xml.js';
import { PlaneLog } from '../../src/recording/plane-log.js';
import type { FrameFormat } from '../../src/recording/frame-format.js';

const T0 = 1_700_000_000_123_456_789n;

function planes(metadata: Record<string, unknown>[]): PlaneLog {
  const log = new PlaneLog();
  metadata.forEach((m, i) =>
    log.add({ frameNumber: 10 + i, timestamp: T0 + BigInt(i) * 25_000_000n, metadata: m } as Frame),
  );
  return log;
}

const GRAY16: FrameFormat = {
  width: 640,
  height: 480,
  channels: 1,
  dtype: 'uint16',
  bitDepth: 12,
  pixelFormat: 'Mono12',
};

/** The attributes of the first element named `tag`. */
function attrsOf(xml: string, tag: string): Record<string, string> {
  const m = new RegExp(`<${tag} ([^>]*?)/?>`).exec(xml);
  expect(m, `<${tag}> in the XML`).to.not.equal(null);
  return Object.fromEntries([...m![1].matchAll(/([\w:]+)="([^"]*)"/g)].map((a) => [a[1], a[2]]));
}

describe('OME-XML', () => {
  it('describes a gray uint16 time series: sizes, type, pixel size, one TiffData', () => {
    const xml = omeXml({
      name: 'Camera',
      format: GRAY16,
      pixelSizeUm: 0.65,
      planes: planes([{ exposure_ms: 10 }, { exposure_ms: 20 }, {}]),
      count: 3,
    });
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<OME ')).to.equal(true);
    expect(xml.trimEnd().endsWith('</OME>')).to.equal(true);
    expect(attrsOf(xml, 'OME')).to.include({
      xmlns: 'http://www.openmicroscopy.org/Schemas/OME/2016-06',
    });
    expect(attrsOf(xml, 'Pixels')).to.include({
      DimensionOrder: 'XYCZT',
      Type: 'uint16',
      SignificantBits: '12',
      SizeX: '640',
      SizeY: '480',
      SizeC: '1',
      SizeZ: '1',
      SizeT: '3',
      PhysicalSizeX: '0.65',
      PhysicalSizeY: '0.65',
      PhysicalSizeXUnit: 'µm',
      TimeIncrement: '0.025',
      TimeIncrementUnit: 's',
    });
    expect(attrsOf(xml, 'TiffData')).to.deep.equal({ IFD: '0', PlaneCount: '3' });
    expect(xml).to.include('<AcquisitionDate>2023-11-14T22:13:20.123Z</AcquisitionDate>');
  });

  it('one Plane per frame: DeltaT in s from the first frame, ExposureTime when the frame had one', () => {
    const xml = omeXml({
      name: 'Camera',
      format: GRAY16,
      planes: planes([{ exposure_ms: 10 }, { exposure_us: 500 }, {}]),
      count: 3,
    });
    const planesXml = [...xml.matchAll(/<Plane ([^>]*)\/>/g)].map((m) => m[1]);
    expect(planesXml).to.deep.equal([
      'TheZ="0" TheT="0" TheC="0" DeltaT="0" DeltaTUnit="s" ExposureTime="10" ExposureTimeUnit="ms"',
      'TheZ="0" TheT="1" TheC="0" DeltaT="0.025" DeltaTUnit="s" ExposureTime="0.5" ExposureTimeUnit="ms"',
      'TheZ="0" TheT="2" TheC="0" DeltaT="0.05" DeltaTUnit="s"',
    ]);
  });

  it('elements in schema order: Channel, then TiffData, then the Planes', () => {
    const xml = omeXml({ name: 'C', format: GRAY16, planes: planes([{}, {}]), count: 2 });
    const channel = xml.indexOf('<Channel ');
    const tiffData = xml.indexOf('<TiffData ');
    expect(channel).to.be.greaterThan(0);
    expect(tiffData).to.be.greaterThan(channel);
    expect(xml.indexOf('<Plane ')).to.be.greaterThan(tiffData);
  });

  it('RGB is one channel of 3 interleaved samples; float32 is OME float', () => {
    const xml = omeXml({
      name: 'C',
      format: { ...GRAY16, channels: 3, dtype: 'float32', bitDepth: 16 },
      planes: planes([{}]),
      count: 1,
    });
    expect(attrsOf(xml, 'Pixels')).to.include({
      Type: 'float',
      SizeC: '3',
      Interleaved: 'true',
      SignificantBits: '32',
    });
    expect(attrsOf(xml, 'Channel')).to.include({ SamplesPerPixel: '3' });
    expect(xml).to.not.include('PhysicalSizeX');
    expect(xml).to.not.include('TimeIncrement');
  });

  it('counts only the frames in the file', () => {
    const xml = omeXml({ name: 'C', format: GRAY16, planes: planes([{}, {}, {}]), count: 2 });
    expect(attrsOf(xml, 'Pixels').SizeT).to.equal('2');
    expect([...xml.matchAll(/<Plane /g)]).to.have.length(2);
  });

  it('escapes names and drops characters XML cannot hold', () => {
    expect(escapeXml('a<b & "c"\u0001')).to.equal('a&#60;b &#38; &#34;c&#34;');
    const xml = omeXml({ name: 'x"><y', format: GRAY16, planes: planes([{}]), count: 1 });
    expect(attrsOf(xml, 'Image').Name).to.equal('x&#34;&#62;&#60;y');
  });
});
