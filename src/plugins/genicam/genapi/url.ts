import { unzipSync } from 'fflate';
import { GenApiError } from './errors.js';

/** Where the device says its XML is: in its own memory, or in a file/on a web server. */
export type XmlLocation =
  | { kind: 'local'; fileName: string; address: number; length: number }
  | { kind: 'file' | 'http'; url: string };

/** Parses a GenICam URL from the first-URL register: "Local:Name.zip;8000;3A4F?SchemaVersion=1.1.0", "File:..." or "http://..."; addresses/lengths are hex. */
export function parseXmlUrl(url: string): XmlLocation {
  const text = url.replace(/\0+$/, '').trim();
  const scheme = /^([a-z]+):/i.exec(text)?.[1].toLowerCase();
  if (scheme === 'file') return { kind: 'file', url: text };
  if (scheme === 'http' || scheme === 'https') return { kind: 'http', url: text };
  if (scheme === 'local') {
    const body = text.slice('local:'.length).replace(/\?.*$/, '').replace(/^\/+/, '');
    const m = /^([^;]+);(?:0x)?([0-9a-f]+);(?:0x)?([0-9a-f]+)$/i.exec(body);
    if (m) {
      return {
        kind: 'local',
        fileName: m[1],
        address: parseInt(m[2], 16),
        length: parseInt(m[3], 16),
      };
    }
  }
  throw new GenApiError(
    `Unsupported GenICam XML URL "${text}": expected Local:<file>;<hex address>;<hex length>, File: or http:`,
    'unsupported',
  );
}

/** Turns the bytes read from the device into XML text: if fileName ends with .zip, unzip (fflate unzipSync) and take the first .xml entry; else decode as UTF-8 (strip trailing NULs). */
export function extractXml(bytes: Uint8Array, fileName: string): string {
  let xmlBytes = bytes;
  if (/\.zip$/i.test(fileName)) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes);
    } catch (err) {
      throw new GenApiError(
        `${fileName} is not a readable zip: ${(err as Error).message}`,
        'unsupported',
      );
    }
    const name = Object.keys(entries).find((n) => /\.xml$/i.test(n));
    if (name === undefined) {
      const found = Object.keys(entries).join(', ') || 'nothing';
      throw new GenApiError(`${fileName} holds no .xml file (found ${found})`, 'unsupported');
    }
    xmlBytes = entries[name];
  }
  // Devices pad the file to their register granularity with NULs.
  return new TextDecoder('utf-8').decode(xmlBytes).replace(/\0+$/, '');
}
