import { unzipSync } from 'fflate';
import { GenApiError } from './errors.js';

/** Where a device keeps its GenICam XML, from its first-URL register. */
export type XmlLocation =
  | { kind: 'local'; fileName: string; address: number; length: number }
  | { kind: 'file' | 'http'; url: string };

/** Parses "Local:Name.zip;8000;3A4F?SchemaVersion=1.1.0" (hex address and length), "File:…" or "http://…". */
export function parseXmlUrl(url: string): XmlLocation {
  const local = /^local:(?:\/\/\/)?([^;]+);([0-9a-f]+);([0-9a-f]+)/i.exec(url.trim());
  if (local)
    return {
      kind: 'local',
      fileName: local[1]!,
      address: parseInt(local[2]!, 16),
      length: parseInt(local[3]!, 16),
    };
  if (/^file:/i.test(url)) return { kind: 'file', url };
  if (/^https?:/i.test(url)) return { kind: 'http', url };
  throw new GenApiError(`cannot read the GenICam XML URL '${url}'`, 'unsupported');
}

/** The XML text from the bytes read at a Local: location (unzipping a .zip; trailing NULs dropped). */
export function extractXml(bytes: Uint8Array, fileName: string): string {
  if (/\.zip$/i.test(fileName)) {
    const files = unzipSync(bytes);
    const name = Object.keys(files).find((n) => /\.xml$/i.test(n));
    if (!name) throw new GenApiError(`${fileName} holds no .xml file`, 'unsupported');
    return new TextDecoder().decode(files[name]);
  }
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}
