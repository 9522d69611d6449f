import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.js';
import { cpuWindow, reason, startChildServer, withTimeout, type ChildServer } from './harness.js';

const PIXEL_CODE_JS = fileURLToPath(new URL('../src/core/pixel-code.js', import.meta.url));

/** Serves an empty page and the pixel-code decoder (`/pixel-code.js`) on a port of its own, cross-origin to liveview. */
async function startPageServer(title: string): Promise<{ origin: string; close(): Promise<void> }> {
  const decoder = await readFile(PIXEL_CODE_JS);
  const server = http.createServer((req, res) => {
    if (req.url === '/pixel-code.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
      res.end(decoder);
    } else if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><title>${title}</title><body></body>`);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** What a glass-to-glass page is measured with. */
export interface GlassPageOptions {
  /** The page's title (the bench's name). */
  title: string;
  /** Presented frames to sample after the warm-up. */
  samples: number;
  /** Ms of frames discarded before sampling. */
  warmupMs: number;
  /** Runs once the server is up, before the browser starts (default nothing). */
  ready?: (server: ChildServer) => Promise<void>;
  /** Runs when the page calls `benchMark('end')`, after the CPU window closed (default nothing). */
  atEnd?: (server: ChildServer) => Promise<void>;
}

/**
 * One glass-to-glass measurement: liveview from `yaml` in a child process that allows the
 * harness page's origin, headless Chromium on that page, and `run(page, server, maxMs)` (a
 * `page.evaluate` of a self-contained measuring function that calls `benchMark('start'|'end')`
 * around its window). Returns its result with the server's CPU over that window (% of a core);
 * a failure carries the tail of the server's log.
 */
export async function measureInGlassPage<R>(
  yaml: string,
  options: GlassPageOptions,
  run: (page: Page, server: ChildServer, maxMs: number) => Promise<R>,
): Promise<R & { cpu: number }> {
  const page0 = await startPageServer(options.title);
  let server: ChildServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startChildServer(yaml, `cors_origins: ['${page0.origin}']`);
    const started = server;
    await options.ready?.(started);
    const cpu = cpuWindow(started.pid);
    let cpuPercent = NaN;
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.exposeFunction('benchMark', async (phase: string) => {
      if (phase === 'start') await cpu.start();
      else {
        cpuPercent = await cpu.end();
        await options.atEnd?.(started);
      }
    });
    await page.goto(`${page0.origin}/`);
    // 30 fps with room for lost frames, the warm-up and a slow start.
    const maxMs = options.warmupMs + (options.samples / 30) * 3000 + 10_000;
    const result = await withTimeout(run(page, started, maxMs), maxMs + 30_000, options.title);
    return { ...result, cpu: cpuPercent };
  } catch (err) {
    const log = server?.output().trim();
    throw new Error(`${reason(err)}${log ? `\nserver log (tail):\n${log.slice(-2000)}` : ''}`, {
      cause: err,
    });
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await page0.close();
  }
}
