import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_RATE_LIMITS } from './server.js';

/** The built CLI next to this file's build folder (dist/ or a private build folder alike). */
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** How much of the server's stderr is kept for a crash report. */
const STDERR_TAIL = 64 * 1024;

/** How the server process ended when nobody asked it to. */
export interface Crash {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** The last lines of its JSON log (stdout). */
  stdoutTail: string[];
}

/** Resources of a process, read from /proc (Linux). */
export interface ProcSample {
  /** Resident set size, MB. */
  rssMb: number;
  /** Open file descriptors. */
  fds: number;
}

/** Log lines the server wrote at warn level and above, with a few of their messages. */
export interface LogCounts {
  warn: number;
  error: number;
  messages: Map<string, number>;
}

/**
 * A liveview server in a child process, watched for the soak: its RSS and fds from /proc, its
 * warnings and errors from its JSON log, its stderr kept for a crash report.
 */
export class SoakServer {
  /** Resolves if the process ends before `stop()` was called. */
  readonly crashed: Promise<Crash>;
  readonly logs: LogCounts = { warn: 0, error: 0, messages: new Map() };
  /** Base URL, e.g. http://127.0.0.1:41234 (set once it listens). */
  url = '';
  private stderr = '';
  private readonly stdoutTail: string[] = [];
  private stopping = false;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly listening: Promise<string>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly dir: string,
  ) {
    child.stdin.end();
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.crashed = new Promise((resolve) => {
      void this.exited.then(async ({ code, signal }) => {
        if (this.stopping) return;
        await rm(dir, { recursive: true, force: true });
        resolve({ code, signal, stderr: this.stderr, stdoutTail: this.stdoutTail });
      });
    });
    let pending = '';
    this.listening = new Promise<string>((resolve, reject) => {
      // stdout and stderr are read to the end, so the server never blocks on a full pipe.
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        pending += d;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          countLogLine(line, this.logs);
          this.stdoutTail.push(line.slice(0, 1000));
          if (this.stdoutTail.length > 20) this.stdoutTail.shift();
          const m = /"url":"(http:[^"]+)"/.exec(line);
          if (m) resolve(m[1]);
        }
      });
      void this.exited.then(({ code, signal }) =>
        reject(new Error(`server exited with ${code ?? signal} before listening:\n${this.stderr}`)),
      );
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-STDERR_TAIL);
    });
  }

  /** Process id. */
  get pid(): number {
    return this.child.pid!;
  }

  /** Starts `liveview -c <yaml>` on 127.0.0.1 and a free port; resolves once it listens. */
  static async start(yaml: string): Promise<SoakServer> {
    const dir = await mkdtemp(path.join(tmpdir(), 'liveview-soak-'));
    const config = path.join(dir, 'soak.yaml');
    // Port 0: the OS picks a free port at bind time (no race between choosing and binding).
    // The churn is the load under test: the per-address rate limits would refuse most of it.
    await writeFile(config, `server: { host: 127.0.0.1, port: 0, ${NO_RATE_LIMITS} }\n${yaml}`);
    const server = new SoakServer(
      spawn(process.execPath, [CLI, '-c', config], { stdio: 'pipe' }),
      dir,
    );
    server.url = await server.listening;
    return server;
  }

  /** RSS and open fds of the server now. */
  async sample(): Promise<ProcSample> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    const fds = (await readdir(`/proc/${this.pid}/fd`)).length;
    return { rssMb: rssKb / 1024, fds };
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    ms: number;
    killed: boolean;
  }> {
    this.stopping = true;
    const t0 = performance.now();
    let killed = false;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, timeoutMs);
    const { code, signal } = await this.exited;
    clearTimeout(timer);
    await rm(this.dir, { recursive: true, force: true });
    return { code, signal, ms: performance.now() - t0, killed };
  }
}

/** Counts a pino JSON line at warn (40) or above, keyed by its message. */
function countLogLine(line: string, counts: LogCounts): void {
  const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
  if (level < 40) return;
  if (level >= 50) counts.error++;
  else counts.warn++;
  const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line.slice(0, 200);
  // Numbers vary per client (ports, counts); the shape of the message is what matters.
  const key = `${level >= 50 ? 'error' : 'warn'}: ${msg.replace(/\d+/g, 'N').slice(0, 160)}`;
  counts.messages.set(key, (counts.messages.get(key) ?? 0) + 1);
}
