import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { createLogger } from '../src/core/logger.js';
import { discoverDevices } from '../src/plugins/genicam/discovery.js';
import { GenicamDetector } from '../src/plugins/genicam/genicam-detector.js';
import { parseGenicamOptions } from '../src/plugins/genicam/options.js';
import { cpuSeconds, fmt, median, printTable } from './stats.js';

/**
 * The simulated camera stands in for a device with a CPU of its own: it gets one core and each
 * receiver the other, so neither client is measured by how much it slows the simulator down.
 * Without pinning (one core, or no taskset) both share the machine.
 */
const PINNING = os.availableParallelism() >= 2 && spawnSync('which', ['taskset']).status === 0;
const CAMERA_CPU = 0;
const RECEIVER_CPU = 1;

/** A command line run on one CPU when pinning is possible. */
function pinned(cpu: number, command: string, args: string[]): [string, string[]] {
  return PINNING ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
}

/** Runs `fn` with every thread of this process (and threads it starts) on one CPU. */
async function onCpu<T>(cpu: number, fn: () => Promise<T>): Promise<T> {
  if (!PINNING) return fn();
  const all = `0-${os.availableParallelism() - 1}`;
  spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)]);
  try {
    return await fn();
  } finally {
    spawnSync('taskset', ['-a', '-p', '-c', all, String(process.pid)]);
  }
}

/** Frame rate asked of the camera in every case (both clients ask the same). */
const RATE = 200;
const CASES = [
  { size: 512, format: 'Mono8' },
  { size: 512, format: 'Mono16' },
  { size: 2048, format: 'Mono8' },
  { size: 2048, format: 'Mono16' },
];

interface Result {
  fps: number;
  mbps: number;
  incomplete: number;
  /** CPU of the receiving process over the measured seconds, % of one core. */
  cpu: number;
  /** liveview only: how it read the stream and the socket buffer it got. */
  setup?: string;
}

async function startFakeCamera(): Promise<ChildProcess> {
  const child = spawn(...pinned(CAMERA_CPU, 'arv-fake-gv-camera-0.8', ['-i', '127.0.0.1']), {
    stdio: 'ignore',
  });
  for (let i = 0; i < 50; i++) {
    const found = await discoverDevices({
      interfaces: [],
      addresses: ['127.0.0.1'],
      timeoutMs: 100,
    });
    if (found.length > 0) return child;
  }
  child.kill('SIGKILL');
  throw new Error('the fake camera did not answer');
}

/** Aravis's own client for `seconds`: the median of its per-second frame rates. */
async function aravis(size: number, format: string, seconds: number): Promise<Result> {
  const child = spawn(
    ...pinned(RECEIVER_CPU, 'stdbuf', [
      '-oL',
      'arv-camera-test-0.8',
      '-n',
      '127.0.0.1',
      '-f',
      String(RATE),
      '-w',
      String(size),
      '-h',
      String(size),
      '--features',
      `PixelFormat=${format}`,
    ]),
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // stdbuf execs the client: the pid is Aravis's own.
  await new Promise((r) => setTimeout(r, 1000));
  const cpu0 = await cpuSeconds(child.pid!);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = ((await cpuSeconds(child.pid!)) - cpu0) / seconds;
  child.kill('SIGINT');
  await new Promise((r) => child.on('exit', r));
  const rates = [...out.matchAll(/(\d+) frames\/s -\s+([\d.]+) MiB\/s/g)].map((m) => ({
    fps: Number(m[1]),
    mbps: Number(m[2]) * 1.048576,
  }));
  // The first second includes the start-up.
  const steady = rates.slice(1);
  const failures = /n_failures\s+=\s+(\d+)/.exec(out);
  return {
    fps: median(steady.map((r) => r.fps)),
    mbps: median(steady.map((r) => r.mbps)),
    incomplete: failures ? Number(failures[1]) : NaN,
    cpu: cpu * 100,
  };
}

/** Our detector for `seconds` after a 1 s warm-up. */
async function liveview(size: number, format: string, seconds: number): Promise<Result> {
  const options = parseGenicamOptions(
    {
      address: '127.0.0.1',
      features: { AcquisitionFrameRate: RATE, Width: size, Height: size, PixelFormat: format },
    },
    'bench',
  );
  const d = new GenicamDetector('Bench', options, createLogger('silent'));
  let frames = 0;
  d.on('frame', () => frames++);
  try {
    await d.start();
    await new Promise((r) => setTimeout(r, 1000));
    const stats = () =>
      d.info.stream as {
        bytesReceived: number;
        incomplete: number;
        transport: string;
        receiveBufferBytes: number;
      };
    const f0 = frames;
    const b0 = stats().bytesReceived;
    const i0 = stats().incomplete;
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    return {
      fps: (frames - f0) / seconds,
      mbps: (stats().bytesReceived - b0) / seconds / 1e6,
      incomplete: stats().incomplete - i0,
      cpu: (cpu.user + cpu.system) / 1e4 / seconds,
      setup: `${stats().transport}, receive buffer ${(stats().receiveBufferBytes / 2 ** 20).toFixed(0)} MiB`,
    };
  } finally {
    await d.close();
  }
}

/** Frames/s and MB/s from Aravis's fake camera, liveview beside Aravis's own client. */
export async function benchGenicam(runs: number, seconds: number): Promise<void> {
  if (spawnSync('which', ['arv-fake-gv-camera-0.8']).status !== 0) {
    console.log('\n### GenICam: skipped (apt-get install aravis-tools aravis-tools-cli)');
    return;
  }
  await promisify(execFile)('pkill', ['-f', 'arv-fake-gv-camera']).catch(() => undefined);
  const camera = await startFakeCamera();
  const rows: string[][] = [];
  let setup = '';
  try {
    for (const { size, format } of CASES) {
      const ours: Result[] = [];
      const theirs: Result[] = [];
      for (let i = 0; i < runs; i++) {
        theirs.push(await aravis(size, format, seconds));
        ours.push(await onCpu(RECEIVER_CPU, () => liveview(size, format, seconds)));
      }
      setup = ours[0]?.setup ?? setup;
      const fps = median(ours.map((r) => r.fps));
      const aravisFps = median(theirs.map((r) => r.fps));
      rows.push([
        `${size}x${size} ${format}`,
        fmt(fps),
        fmt(median(ours.map((r) => r.mbps))),
        String(ours.reduce((s, r) => s + r.incomplete, 0)),
        fmt(median(ours.map((r) => r.cpu)), 0),
        fmt(aravisFps),
        fmt(median(theirs.map((r) => r.mbps))),
        String(theirs.reduce((s, r) => s + r.incomplete, 0)),
        fmt(median(theirs.map((r) => r.cpu)), 0),
        fmt(fps / aravisFps, 2),
      ]);
    }
  } finally {
    camera.kill('SIGKILL');
  }
  printTable(
    `GenICam: Aravis fake camera on loopback, ${RATE} frames/s asked (median of ${runs} runs of ${seconds} s)`,
    [
      'case',
      'liveview fps',
      'MB/s',
      'incomplete',
      'CPU %',
      'Aravis fps',
      'MB/s',
      'failures',
      'CPU %',
      'ratio',
    ],
    rows,
  );
  console.log(
    `\nliveview: ${setup}; both clients keep the camera's packet size. CPU: % of one core. ` +
      (PINNING
        ? `Camera on CPU ${CAMERA_CPU}, each receiver on CPU ${RECEIVER_CPU}.`
        : 'Camera and receivers share the CPUs.'),
  );
}
