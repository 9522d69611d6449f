import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cpuWindow,
  envNumber,
  framesEncoded,
  loadLine,
  reason,
  sleep,
  startViewers,
  withTimeout,
  type ViewersProcess,
} from './harness.js';
import { NO_RATE_LIMITS } from './server.js';
import { fmt, median, printTable } from './stats.js';

const SERVER = fileURLToPath(new URL('./recording-video-server.js', import.meta.url));

/** 720p30 as in the issue; H.264 so that a viewer and the MP4 recording can share the encoder. */
const YAML = `server: { host: 127.0.0.1, port: 0, ${NO_RATE_LIMITS} }
logging: { level: warn }
detectors:
  Camera:
    type: mock
    options: { width: 1280, height: 720, fps: 30 }
protocols:
  webrtc: { codec: H264, ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
`;

/** The cases of the table: one WebRTC viewer, an MP4 recording, or both on one shared encoder. */
const CASES = [
  { label: '1 WebRTC viewer (H.264)', viewer: true, record: false },
  { label: 'viewer + mp4 recording (shared encoder)', viewer: true, record: true },
  { label: 'mp4 recording alone (its own encoder)', viewer: false, record: true },
] as const;

interface Result {
  cpu: number;
  streamFps: number;
  viewerFps: number;
  writtenFps: number;
  dropped: number;
  megabytes: number;
}

/** The bench server child (bench/recording-video-server.ts) and its IPC. */
class RecordingServer {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<RecordingServer> {
    const child = spawn(process.execPath, [SERVER], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, LIVEVIEW_BENCH_CONFIG: YAML },
    });
    let output = '';
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4096));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    try {
      const { url } = await RecordingServer.reply<{ url: string }>(child, (m) => 'url' in m);
      return new RecordingServer(child, url);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${reason(err)}\n${output}`, { cause: err });
    }
  }

  /** Asks the server to do `cmd` and waits for the answer of type `type`. */
  async ask<T>(message: object, type: string): Promise<T> {
    const reply = RecordingServer.reply<T>(
      this.child,
      (m) => m.type === type || m.type === 'failed',
    );
    this.child.send(message);
    const answer = await reply;
    const failed = answer as { type?: string; error?: string };
    if (failed.type === 'failed') throw new Error(`bench server: ${failed.error}`);
    return answer;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 6000);
    await exited;
    clearTimeout(timer);
  }

  private static reply<T>(
    child: ChildProcess,
    accept: (m: Record<string, unknown>) => boolean,
  ): Promise<T> {
    return withTimeout(
      new Promise<T>((resolve, reject) => {
        const onMessage = (m: unknown) => {
          if (typeof m !== 'object' || m === null || !accept(m as Record<string, unknown>)) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m as T);
        };
        const onExit = (code: number | null) => {
          child.off('message', onMessage);
          reject(new Error(`bench server exited (${code})`));
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
      }),
      60_000,
      'bench server answer',
    );
  }
}

/** Recordings made so far (their file names). */
let recordings = 0;

async function measure(
  c: (typeof CASES)[number],
  dir: string,
  warmupMs: number,
  seconds: number,
): Promise<Result> {
  const server = await RecordingServer.start();
  let viewers: ViewersProcess | undefined;
  try {
    if (c.viewer) viewers = await startViewers(server.url, 'webrtc', 1);
    const recordedAt = performance.now();
    if (c.record) {
      // A new file each time: a recording never overwrites one.
      const file = path.join(dir, `bench-${++recordings}.mp4`);
      await server.ask({ cmd: 'record', path: file }, 'recording');
    }
    await sleep(warmupMs);
    const cpu = cpuWindow(server.child.pid!);
    const v0 = await viewers?.counts();
    const e0 = await framesEncoded(server.url, 'webrtc');
    const t0 = performance.now();
    await cpu.start();
    await sleep(seconds * 1000);
    const serverCpu = await cpu.end();
    const elapsed = (performance.now() - t0) / 1000;
    const e1 = await framesEncoded(server.url, 'webrtc');
    const v1 = await viewers?.counts();
    const stopped = c.record
      ? await server.ask<{
          stats: { framesWritten: number; framesDropped: number; bytesWritten: number };
        }>({ cmd: 'stop' }, 'stopped')
      : undefined;
    const recordedS = (performance.now() - recordedAt) / 1000;
    const stats = stopped?.stats;
    return {
      cpu: serverCpu,
      streamFps: (e1 - e0) / elapsed,
      viewerFps: v0 && v1 ? (v1.counts[0] - v0.counts[0]) / ((v1.at - v0.at) / 1000) : NaN,
      writtenFps: stats ? stats.framesWritten / recordedS : NaN,
      dropped: stats?.framesDropped ?? NaN,
      megabytes: stats ? stats.bytesWritten / 1e6 : NaN,
    };
  } finally {
    await viewers?.stop();
    await server.stop();
  }
}

/**
 * MP4 recording at 720p30 (mock 1280x720, 30 fps, H.264), server CPU from /proc for one WebRTC
 * viewer alone, the viewer with an MP4 recording sharing its encoder, and the recording alone
 * (which then runs the encoder itself): what the recording adds with and without a shared encoder.
 * `BENCH_RECORDING_VIDEO_SECONDS` (default 10) per run.
 */
export async function benchRecordingVideo(runs: number): Promise<void> {
  const seconds = envNumber('BENCH_RECORDING_VIDEO_SECONDS', 10);
  const warmupMs = envNumber('BENCH_WARMUP_MS', 2000);
  const dir = await mkdtemp(
    path.join(process.env.BENCH_RECORDING_DIR ?? tmpdir(), 'liveview-bench-mp4-'),
  );
  const before = loadLine('at start');
  const notes: string[] = [];
  const rows: string[][] = [];
  const cpus: number[] = [];
  try {
    for (const c of CASES) {
      const results: Result[] = [];
      for (let r = 0; r < runs; r++) {
        try {
          results.push(await measure(c, dir, warmupMs, seconds));
        } catch (err) {
          notes.push(`${c.label} run ${r + 1} failed: ${reason(err)}`);
        }
      }
      const m = (pick: (x: Result) => number) => median(results.map(pick));
      cpus.push(m((x) => x.cpu));
      rows.push([
        c.label,
        `${results.length}/${runs}`,
        fmt(m((x) => x.streamFps)),
        c.viewer ? fmt(m((x) => x.viewerFps)) : '-',
        c.record ? fmt(m((x) => x.writtenFps)) : '-',
        c.record
          ? fmt(
              m((x) => x.dropped),
              0,
            )
          : '-',
        c.record ? fmt(m((x) => x.megabytes)) : '-',
        fmt(m((x) => x.cpu)),
        // Per frame the stream made: comparable when a loaded machine lowers the frame rate.
        fmt(
          m((x) => (x.cpu * 10) / x.streamFps),
          2,
        ),
      ]);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  printTable(
    `MP4 recording at 720p30: mock 1280x720 at 30 fps (features), H.264 (WebRTC defaults, max 4 Mbit/s); ` +
      `server in its own process, CPU from /proc over ${seconds} s after ${warmupMs / 1000} s warm-up; ` +
      `one werift viewer (not decoding) in a separate process; median of ${runs} runs`,
    [
      'case',
      'runs ok',
      'stream fps',
      'viewer fps',
      'written fps',
      'dropped',
      'MB written',
      'server CPU % of a core',
      'server CPU ms per frame',
    ],
    rows,
  );
  console.log(
    `\nThe recording adds ${fmt(cpus[1] - cpus[0])} % of a core beside a viewer (shared encoder: muxing only); ` +
      `alone it costs ${fmt(cpus[2])} % (camera, conversion, its own encoder, muxing).`,
  );
  console.log(`\n${before}; ${loadLine('at end')}`);
  for (const n of notes) console.log(`- ${n}`);
}
