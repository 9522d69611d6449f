import { extractXml, parseXmlUrl } from './genapi/index.js';
import type { GvcpClient } from './gvcp-client.js';
import { Bootstrap } from './gvcp.js';

/** Size of the first-URL bootstrap register. */
const URL_REGISTER_BYTES = 512;

/**
 * Reads the camera's GenICam XML from where its first URL register points. Only `Local:` (the
 * device's own memory, plain or zipped) is read; `File:` and `http:` are named as unsupported.
 */
export async function readDeviceXml(client: GvcpClient): Promise<{ url: string; xml: string }> {
  const raw = await client.readMemory(Bootstrap.firstUrl, URL_REGISTER_BYTES);
  const end = raw.indexOf(0);
  const url = Buffer.from(end < 0 ? raw : raw.subarray(0, end))
    .toString('latin1')
    .trim();
  if (url === '') throw new Error(`camera at ${client.address} has an empty GenICam XML URL`);
  const location = parseXmlUrl(url);
  if (location.kind !== 'local')
    throw new Error(
      `camera at ${client.address} keeps its GenICam XML at '${url}': ${location.kind} URLs are ` +
        'not supported; only XML stored in the camera (Local:) can be read',
    );
  const bytes = await client.readMemory(location.address, location.length);
  return { url, xml: extractXml(bytes, location.fileName) };
}
