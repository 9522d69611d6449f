import http from 'node:http';
import { startBenchServer } from './server.js';
import { cpuSeconds, fmt, median, printTable } from './stats.js';

/**
 * A frame counter for a multipart stream that parses only the part headers and skips the JPEG
 * bytes, so that 50 clients cost the bench process little CPU.
 */
class PartCounter {
  parts = 0;
  private skip = 0;
  private head = Buffer.alloc(0);
  private req: http.ClientRequest;

  constructor(url: string) {
    this.req = http.get(url, (res) => res.on('data', (chunk: Buffer) => this.onData(chunk)));
    this.req.on('error', () => undefined);
  }

  close(): void {
    this.req.destroy();
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length);
        this.skip -= n;
        buf = buf.subarray(n);
        continue;
      }
      // Header bytes are few; only a header split across chunks is copied.
      const combined = this.head.length > 0 ? Buffer.concat([this.head, buf]) : buf;
      const end = combined.indexOf('\r\n\r\n');
      if (end < 0) {
        this.head = Buffer.from(combined);
        return;
      }
      this.consumeHead(combined.subarray(0, end).toString('latin1'));
      this.head = Buffer.alloc(0);
      buf = combined.subarray(end + 4);
    }
  }

  private consumeHead(head: string): void {
    const m = /Content-Length: (\d+)/i.exec(head);
    if (!m) return;
    this.parts++;
    this.skip = Number(m[1]) + 2;
  }
}

/** One measurement: N clients for `seconds`; delivered fps per client and server CPU. */
async function measure(
  url: string,
  pid: number,
  clients: number,
  seconds: number,
): Promise<{ fps: number[]; cpu: number }> {
  const counters = Array.from(
    { length: clients },
    () => new PartCounter(`${url}/liveview/mjpeg?detectorName=Camera`),
  );
  await new Promise((r) => setTimeout(r, 1500)); // warm up: all connected, stream running
  const start = counters.map((c) => c.parts);
  const cpu0 = await cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = (await cpuSeconds(pid)) - cpu0;
  const fps = counters.map((c, i) => (c.parts - start[i]) / elapsed);
  for (const c of counters) c.close();
  await new Promise((r) => setTimeout(r, 2500)); // on-demand stream stops between runs
  return { fps, cpu: (cpu / elapsed) * 100 };
}

/** Benchmarks MJPEG fan-out of 1280x720 and 2048x2048 uint16 30 fps cameras to 1, 10 and 50 clients. */
export async function benchMjpegFanout(runs: number, seconds: number): Promise<void> {
  for (const [width, height] of [
    [1280, 720],
    [2048, 2048],
  ]) {
    await benchSize(width, height, runs, seconds);
  }
}

async function benchSize(
  width: number,
  height: number,
  runs: number,
  seconds: number,
): Promise<void> {
  const server = await startBenchServer(`detectors:
  Camera:
    type: mock
    options: { width: ${width}, height: ${height}, dtype: uint16, bit_depth: 12, fps: 30 }
protocols:
  mjpeg: { throttle_ms: 0, jpeg_quality: 80 }
`);
  const rows: string[][] = [];
  try {
    for (const clients of [1, 10, 50]) {
      const results = [];
      for (let r = 0; r < runs; r++)
        results.push(await measure(server.url, server.pid, clients, seconds));
      const all = results.flatMap((x) => x.fps);
      rows.push([
        String(clients),
        fmt(median(results.map((x) => median(x.fps)))),
        fmt(Math.min(...all)),
        fmt(median(results.map((x) => x.cpu))),
      ]);
    }
  } finally {
    await server.stop();
  }
  printTable(
    `MJPEG ${width}x${height} uint16 mock camera at 30 fps, server in its own process, median of ${runs} runs of ${seconds} s`,
    ['clients', 'fps per client (median)', 'slowest client fps', 'server CPU % of one core'],
    rows,
  );
}
