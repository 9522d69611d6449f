import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, fmt } from './stats.js';

const SERVER_CHILD = fileURLToPath(new URL('./server-child.js', import.meta.url));
const VIEWERS_CHILD = fileURLToPath(new URL('./viewers-child.js', import.meta.url));

/** Milliseconds a child gets to start (server listening, viewers connected, retries included) before it is killed. */
const START_TIMEOUT_MS = 75_000;
/** Milliseconds a child gets to stop after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 6_000;

/** Every child this bench started and has not seen exit: killed when the bench exits. */
const children = new Set<ChildProcess>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of children) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/** Spawns a Node script of this folder with an IPC channel, its stdout and stderr kept (last 8 KB each). */
function spawnScript(
  script: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  installCleanup();
  const child = spawn(process.execPath, [script], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => out };
}

/** Waits for the first IPC message that `accept` takes, or rejects on exit or after `ms`. */
function waitMessage<T>(
  child: ChildProcess,
  what: string,
  ms: number,
  output: () => string,
  accept: (m: unknown) => T | Error | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: unknown): void => {
      const value = accept(m);
      if (value === undefined) return;
      done();
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      done();
      reject(new Error(`${what}: exited (${signal ?? code}) before answering\n${output()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: no answer within ${ms} ms\n${output()}`));
    }, ms);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sends SIGTERM, waits up to STOP_TIMEOUT_MS, then SIGKILL; resolves once the child is gone. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** A liveview server started by bench/server-child.ts in its own process. */
export interface ChildServer {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Process id, for /proc CPU readings. */
  pid: number;
  /** The server's last output (logs), for failure reports. */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

/**
 * Starts liveview (`startServer` from src/api/server.ts) on this YAML in a child process; `server:`
 * keys given in `serverKeys` are added to host 127.0.0.1, port 0 and the rate limits turned off.
 */
export async function startChildServer(yaml: string, serverKeys = ''): Promise<ChildServer> {
  const { NO_RATE_LIMITS } = await import('./server.js');
  const config =
    `server: { host: 127.0.0.1, port: 0, ${NO_RATE_LIMITS}${serverKeys ? `, ${serverKeys}` : ''} }\n` +
    `logging: { level: ${process.env.BENCH_LOG_LEVEL ?? 'warn'} }\n${yaml}`;
  const { child, output } = spawnScript(SERVER_CHILD, { LIVEVIEW_BENCH_CONFIG: config });
  try {
    const url = await waitMessage(child, 'liveview server', START_TIMEOUT_MS, output, (m) =>
      typeof m === 'object' && m !== null && 'url' in m && typeof m.url === 'string'
        ? m.url
        : undefined,
    );
    return { url, pid: child.pid!, output, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** What kind of clients a viewers process runs. */
export type ViewerKind = 'webrtc' | 'mjpeg';

/** Counters of a viewers process at one moment. */
export interface ViewerCounts {
  /** Frames each client received so far. */
  counts: number[];
  /** CPU seconds the viewers process used so far. */
  cpu: number;
  /** Wall time of the reading (performance.now() of this process). */
  at: number;
}

/** N clients of one kind in their own process (bench/viewers-child.ts), which only count frames. */
export interface ViewersProcess {
  /** Connection attempts that failed and were retried, with why. */
  retries: string[];
  /** Reads every client's frame count. */
  counts(): Promise<ViewerCounts>;
  /** Closes the clients and ends the process. */
  stop(): Promise<void>;
}

/** Starts `count` counting clients of `url`'s detector `Camera` in a separate process; resolves once all are connected. */
export async function startViewers(
  url: string,
  kind: ViewerKind,
  count: number,
): Promise<ViewersProcess> {
  let retries: string[];
  const { child, output } = spawnScript(VIEWERS_CHILD, {
    BENCH_VIEWERS_URL: url,
    BENCH_VIEWERS_KIND: kind,
    BENCH_VIEWERS_COUNT: String(count),
  });
  try {
    retries = await waitMessage(
      child,
      `${count} ${kind} viewers`,
      START_TIMEOUT_MS,
      output,
      (m) => {
        if (typeof m !== 'object' || m === null || !('type' in m)) return undefined;
        if (m.type === 'failed')
          return new Error(`viewers: ${String((m as { error?: unknown }).error)}\n${output()}`);
        return m.type === 'ready' ? ((m as { retries?: string[] }).retries ?? []) : undefined;
      },
    );
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  let asked = 0;
  return {
    retries,
    counts: async () => {
      const id = ++asked;
      const reply = waitMessage(child, 'viewer counts', 10_000, output, (m) =>
        typeof m === 'object' &&
        m !== null &&
        'type' in m &&
        m.type === 'counts' &&
        'id' in m &&
        m.id === id
          ? (m as unknown as ViewerCounts)
          : undefined,
      );
      child.send({ cmd: 'counts', id });
      const r = await reply;
      return { counts: r.counts, cpu: r.cpu, at: performance.now() };
    },
    stop: () => stopChild(child),
  };
}

/** Server CPU over a window: `start()` marks its beginning, `end()` returns % of one core since. */
export function cpuWindow(pid: number): { start(): Promise<void>; end(): Promise<number> } {
  let cpu0 = NaN;
  let t0 = NaN;
  return {
    start: async () => {
      cpu0 = await cpuSeconds(pid);
      t0 = performance.now();
    },
    end: async () => {
      const cpu = await cpuSeconds(pid);
      return ((cpu - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    },
  };
}

/** The machine's load average and core count, for the tables. */
export function loadLine(when: string): string {
  const [one, five, fifteen] = loadavg();
  return `load average ${when}: ${fmt(one, 2)} ${fmt(five, 2)} ${fmt(fifteen, 2)}`;
}

/** The `p`-th percentile (nearest rank) of values, NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Rejects with a clear message when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The message of an error, first line of its stack if none. */
export function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What getActiveStreams says of one stream of detector Camera (the fields the benches read). */
export interface BenchStreamStatus {
  framesEncoded: number;
  latencyMs: Record<string, { p50: number; p95: number }>;
}

/** The stream `protocol` of detector Camera as getActiveStreams lists it, undefined if it does not run. */
export async function streamStatus(
  url: string,
  protocol: string,
): Promise<BenchStreamStatus | undefined> {
  const res = await fetch(`${url}/liveview/getActiveStreams`);
  const body = (await res.json()) as {
    streams?: (BenchStreamStatus & { detectorName: string; protocol: string })[];
  };
  return body.streams?.find((x) => x.detectorName === 'Camera' && x.protocol === protocol);
}

/** Frames the stream `protocol` of detector Camera has encoded so far (getActiveStreams), NaN if it does not run. */
export async function framesEncoded(url: string, protocol: string): Promise<number> {
  return (await streamStatus(url, protocol))?.framesEncoded ?? NaN;
}

/** Env number with a default. */
export function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

/** Codec of the WebRTC benches: `BENCH_WEBRTC_CODEC` (default VP8, the codec of the issue's baseline; H264 also). */
export const WEBRTC_CODEC = process.env.BENCH_WEBRTC_CODEC === 'H264' ? 'H264' : 'VP8';
