import type { Dtype } from '../index.js';
import { isoDate, type FrameFormat } from './frame-format.js';
import type { PlaneLog } from './plane-log.js';

/** The OME schema the metadata follows. */
export const OME_NAMESPACE = 'http://www.openmicroscopy.org/Schemas/OME/2016-06';

/** OME pixel type of each dtype. */
export const OME_PIXEL_TYPE: Record<Dtype, string> = {
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  float32: 'float',
};

/** What the OME-XML of a recording describes. */
export interface OmeImage {
  /** Image name (the detector's). */
  name: string;
  /** The frames' format. */
  format: FrameFormat;
  /** Pixel size in micrometres, when known. */
  pixelSizeUm?: number;
  /** Per-frame times and exposures. */
  planes: PlaneLog;
  /** Frames in the file (the first `count` of `planes`). */
  count: number;
}

/**
 * The OME-XML (2016-06) of a recording stored as one TIFF page per frame from IFD 0: one image,
 * XYCZT with SizeT = frames (RGB is one channel of 3 interleaved samples), one Plane per frame
 * with DeltaT (s since the first frame) and ExposureTime (ms) when the frame carried one.
 */
export function omeXml(image: OmeImage): string {
  const f = image.format;
  const bits = f.dtype === 'float32' ? 32 : Math.min(f.bitDepth, bitsOf(f.dtype));
  const pixels: Record<string, string | number> = {
    ID: 'Pixels:0',
    DimensionOrder: 'XYCZT',
    Type: OME_PIXEL_TYPE[f.dtype],
    SignificantBits: bits,
    Interleaved: f.channels === 3 ? 'true' : 'false',
    BigEndian: 'false',
    SizeX: f.width,
    SizeY: f.height,
    SizeC: f.channels,
    SizeZ: 1,
    SizeT: image.count,
  };
  if (image.pixelSizeUm !== undefined) {
    Object.assign(pixels, {
      PhysicalSizeX: image.pixelSizeUm,
      PhysicalSizeXUnit: 'µm',
      PhysicalSizeY: image.pixelSizeUm,
      PhysicalSizeYUnit: 'µm',
    });
  }
  const interval = image.planes.meanInterval(image.count);
  if (interval !== undefined)
    Object.assign(pixels, { TimeIncrement: interval, TimeIncrementUnit: 's' });

  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<OME ${attrs({
      xmlns: OME_NAMESPACE,
      'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
      'xsi:schemaLocation': `${OME_NAMESPACE} ${OME_NAMESPACE}/ome.xsd`,
      Creator: 'liveview',
    })}>`,
    `<Image ${attrs({ ID: 'Image:0', Name: image.name })}>`,
  ];
  if (image.planes.firstTimestamp !== undefined) {
    lines.push(`<AcquisitionDate>${isoDate(image.planes.firstTimestamp)}</AcquisitionDate>`);
  }
  lines.push(`<Pixels ${attrs(pixels)}>`);
  lines.push(`<Channel ${attrs({ ID: 'Channel:0:0', SamplesPerPixel: f.channels })}/>`);
  lines.push(`<TiffData ${attrs({ IFD: 0, PlaneCount: image.count })}/>`);
  for (let t = 0; t < image.count; t++) {
    const plane: Record<string, string | number> = {
      TheZ: 0,
      TheT: t,
      TheC: 0,
      DeltaT: image.planes.deltaT[t],
      DeltaTUnit: 's',
    };
    const exposure = image.planes.exposureMs[t];
    if (exposure !== null && exposure !== undefined) {
      plane.ExposureTime = exposure;
      plane.ExposureTimeUnit = 'ms';
    }
    lines.push(`<Plane ${attrs(plane)}/>`);
  }
  lines.push('</Pixels>', '</Image>', '</OME>');
  return lines.join('\n') + '\n';
}

function bitsOf(dtype: Dtype): number {
  return dtype === 'uint8' ? 8 : dtype === 'uint16' ? 16 : 32;
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${escapeXml(String(v))}"`)
    .join(' ');
}

/** Escapes text for an XML attribute value; drops the control characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  const allowed = [...text].filter((c) => c >= ' ' || c === '\t' || c === '\n' || c === '\r');
  return allowed.join('').replace(/[&<>"'\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}
