import { PartCounter } from './part-counter.js';
import { startBenchServer } from './server.js';
import { cpuSeconds, fmt, median, printTable } from './stats.js';

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
