import { cpus } from 'node:os';
import {
  cpuWindow,
  envNumber,
  framesEncoded,
  loadLine,
  reason,
  sleep,
  startChildServer,
  startViewers,
  type ChildServer,
  type ViewerKind,
  type ViewersProcess,
  WEBRTC_CODEC,
} from './harness.js';
import { fmt, median, printTable } from './stats.js';

/** The camera of the issue's measurement (1280x720 at 30 fps, pattern noise); MJPEG unthrottled. */
const CAMERA = `detectors:
  Camera:
    type: mock
    options: { width: 1280, height: 720, fps: 30, pattern: noise }
protocols:
  webrtc: { codec: ${WEBRTC_CODEC}, ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
  mjpeg: { throttle_ms: 0 }
`;

/** What one group of clients (one kind, one process) got in the window. */
export interface GroupResult {
  /** Delivered fps of each client. */
  fps: number[];
  /** Frames the stream encoded per second (getActiveStreams `framesEncoded`). */
  streamFps: number;
  /** Frames each client received, % of the frames the stream encoded. */
  receivedPercent: number[];
}

/** One measurement: server CPU and, per group, what the clients received. */
export interface ClientsResult {
  /** Server CPU, % of one core. */
  cpu: number;
  /** CPU of the client processes together, % of one core. */
  clientsCpu: number;
  /** Per group, in the order asked. */
  groups: GroupResult[];
  /** Client connection attempts that failed and were retried. */
  retries: string[];
}

/**
 * Starts a server (child process) on `yaml`, connects each group of counting clients (one process
 * per group), waits `warmupMs`, then measures for `seconds`.
 */
export async function measureClients(
  yaml: string,
  groups: { kind: ViewerKind; count: number }[],
  warmupMs: number,
  seconds: number,
): Promise<ClientsResult> {
  let server: ChildServer | undefined;
  const procs: ViewersProcess[] = [];
  try {
    server = await startChildServer(yaml);
    for (const g of groups) procs.push(await startViewers(server.url, g.kind, g.count));
    await sleep(warmupMs);
    const cpu = cpuWindow(server.pid);
    const url = server.url;
    const snapshot = () =>
      Promise.all([
        Promise.all(procs.map((p) => p.counts())),
        Promise.all(groups.map((g) => framesEncoded(url, g.kind))),
      ]);
    const [c0, e0] = await snapshot();
    await cpu.start();
    await sleep(seconds * 1000);
    const [c1, e1] = await snapshot();
    const serverCpu = await cpu.end();
    let clientsCpu = 0;
    const results = groups.map((_, i): GroupResult => {
      const elapsed = (c1[i].at - c0[i].at) / 1000;
      const encoded = e1[i] - e0[i];
      const got = c1[i].counts.map((n, j) => n - c0[i].counts[j]);
      clientsCpu += ((c1[i].cpu - c0[i].cpu) / elapsed) * 100;
      return {
        fps: got.map((n) => n / elapsed),
        streamFps: encoded / elapsed,
        receivedPercent: got.map((n) => (n / encoded) * 100),
      };
    });
    return {
      cpu: serverCpu,
      clientsCpu,
      groups: results,
      retries: procs.flatMap((p) => p.retries),
    };
  } catch (err) {
    const log = server?.output().trim();
    throw new Error(`${reason(err)}${log ? `\nserver log (tail):\n${log.slice(-2000)}` : ''}`, {
      cause: err,
    });
  } finally {
    await Promise.allSettled(procs.map((p) => p.stop()));
    await server?.stop();
  }
}

/** Mean of numbers (NaN for none). */
export function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/** Runs `measureClients` `runs` times; failed runs are noted and left out. */
export async function repeat(
  runs: number,
  what: string,
  notes: string[],
  once: () => Promise<ClientsResult>,
): Promise<ClientsResult[]> {
  const results: ClientsResult[] = [];
  for (let r = 0; r < runs; r++) {
    try {
      const result = await once();
      if (result.retries.length > 0)
        notes.push(
          `${what} run ${r + 1}: ${result.retries.length} connection attempts retried, first: ${result.retries[0]}`,
        );
      results.push(result);
    } catch (err) {
      notes.push(`${what} run ${r + 1} failed: ${reason(err)}`);
    }
  }
  return results;
}

/** Prints the load averages and the notes under a table. */
export function printFooter(before: string, notes: string[]): void {
  console.log(`\n${before}; ${loadLine('at end')} (${cpus().length} cores)`);
  for (const n of notes) console.log(`- ${n}`);
}

/**
 * Fan-out: server CPU and delivered fps with 1, 5, 10, 20 non-decoding werift viewers (one
 * separate process), and what share of the stream's frames each of 50 raw MJPEG clients gets.
 */
export async function benchFanout(runs: number): Promise<void> {
  const seconds = envNumber('BENCH_FANOUT_SECONDS', 8);
  const warmupMs = envNumber('BENCH_WARMUP_MS', 2000);
  const counts = (process.env.BENCH_FANOUT_VIEWERS ?? '1,5,10,20').split(',').map(Number);
  const mjpegClients = envNumber('BENCH_MJPEG_CLIENTS', 50);

  let before = loadLine('at start');
  let notes: string[] = [];
  const rows: string[][] = [];
  let one = NaN;
  for (const n of counts) {
    const results = await repeat(runs, `${n} WebRTC viewers`, notes, () =>
      measureClients(CAMERA, [{ kind: 'webrtc', count: n }], warmupMs, seconds),
    );
    const g = results.map((x) => x.groups[0]);
    const cpu = median(results.map((x) => x.cpu));
    if (n === 1) one = cpu;
    rows.push([
      String(n),
      `${results.length}/${runs}`,
      fmt(median(g.map((x) => x.streamFps))),
      fmt(median(g.map((x) => mean(x.fps)))),
      fmt(median(g.map((x) => Math.min(...x.fps)))),
      fmt(Math.min(...g.flatMap((x) => x.fps))),
      fmt(cpu),
      fmt(cpu / one, 2),
      fmt(median(results.map((x) => x.clientsCpu))),
    ]);
  }
  printTable(
    `WebRTC fan-out: mock 1280x720 at 30 fps (noise), ${WEBRTC_CODEC}, werift viewers that count RTP marker bits ` +
      `and never decode, all in one separate process (seed webrtc_offer); ${seconds} s after ${warmupMs / 1000} s warm-up, median of ${runs} runs`,
    [
      'viewers',
      'runs ok',
      'stream fps',
      'fps per viewer (mean)',
      'min viewer fps',
      'min over all runs',
      'server CPU % of a core',
      'CPU vs 1 viewer',
      'viewers process CPU %',
    ],
    rows,
  );
  printFooter(before, notes);

  before = loadLine('at start');
  notes = [];
  const results = await repeat(runs, `${mjpegClients} MJPEG clients`, notes, () =>
    measureClients(CAMERA, [{ kind: 'mjpeg', count: mjpegClients }], warmupMs, seconds),
  );
  const g = results.map((x) => x.groups[0]);
  printTable(
    `MJPEG fan-out: mock 1280x720 at 30 fps (noise), throttle_ms 0, ${mjpegClients} raw multipart readers ` +
      `in one separate process; frames received vs frames the stream encoded; ${seconds} s, median of ${runs} runs`,
    [
      'clients',
      'runs ok',
      'stream fps',
      'received % (median client)',
      'received % (min client)',
      'min over all runs',
      'min client fps',
      'server CPU % of a core',
      'clients process CPU %',
    ],
    [
      [
        String(mjpegClients),
        `${results.length}/${runs}`,
        fmt(median(g.map((x) => x.streamFps))),
        fmt(median(g.map((x) => median(x.receivedPercent)))),
        fmt(median(g.map((x) => Math.min(...x.receivedPercent)))),
        fmt(Math.min(...g.flatMap((x) => x.receivedPercent))),
        fmt(median(g.map((x) => Math.min(...x.fps)))),
        fmt(median(results.map((x) => x.cpu))),
        fmt(median(results.map((x) => x.clientsCpu))),
      ],
    ],
  );
  printFooter(before, notes);
}
