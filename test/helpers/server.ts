import { fileURLToPath } from 'node:url';
import { startServer, type LiveViewServer } from '../../src/api/server.js';

/** Folder of the test fixtures (plugins, configs), in the source tree. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

/** A small, fast simulated camera for tests. */
export const SMALL_MOCK_YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
`;

/** Starts the real server on 127.0.0.1 and a free port from a YAML string, logging nothing. */
export function startTestServer(yaml: string): Promise<LiveViewServer> {
  return startServer({
    configText: yaml,
    configDir: FIXTURES_DIR,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
  });
}

/** POSTs JSON (or raw text) and returns status and parsed JSON. */
export async function postJson(
  url: string,
  body: unknown,
  raw = false,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** GETs JSON. */
export async function getJson(
  url: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Resolves when `check` returns true, polling every 20 ms; rejects after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
