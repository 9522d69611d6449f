import { readdirSync } from 'node:fs';
import { errorMessage } from '../../index.js';
import { V4l2Device, type Capabilities, type FormatInfo } from './device.js';

/** One /dev/videoN as `liveview devices` shows it. */
export interface DeviceListing {
  path: string;
  capabilities?: Capabilities;
  formats?: FormatInfo[];
  error?: string;
}

/** Every /dev/video* device with its formats, sizes and rates (or why it cannot be read). */
export function listDevices(dir = '/dev'): DeviceListing[] {
  const names = readdirSync(dir)
    .filter((n) => /^video\d+$/.test(n))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  return names.map((n) => {
    const path = `${dir}/${n}`;
    try {
      const device = new V4l2Device(path);
      const capabilities = device.open();
      try {
        return { path, capabilities, formats: device.enumerate() };
      } finally {
        device.close();
      }
    } catch (err) {
      return { path, error: errorMessage(err) };
    }
  });
}
