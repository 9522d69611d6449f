import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The Python viewer script, in the source tree (tests run from dist/test/helpers). */
const SCRIPT = fileURLToPath(new URL('../../../test/helpers/aiortc-viewer.py', import.meta.url));
/** Debian's python3-aiortc installs for the system Python, not for any other one on the PATH. */
const PYTHON = process.env.LIVEVIEW_AIORTC_PYTHON ?? '/usr/bin/python3';

let available: boolean | undefined;

/** True if aiortc and aiohttp import (Debian: python3-aiortc python3-aiohttp). */
export function aiortcAvailable(): boolean {
  available ??=
    spawnSync(PYTHON, ['-c', 'import aiortc, aiohttp'], { stdio: 'ignore', timeout: 20_000 })
      .status === 0;
  return available;
}

/** One line aiortc-viewer.py reported; `ms` counts from the WHEP POST, `at` is when it was read. */
export interface AiortcEvent {
  event: string;
  ms: number;
  at: number;
  [key: string]: unknown;
}

/**
 * A WHEP viewer in an aiortc child process (test/helpers/aiortc-viewer.py): it never sends PLI,
 * stays on 127.0.0.1 and reports what happens as events.
 */
export class AiortcViewer {
  readonly events: AiortcEvent[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;

  constructor(
    baseUrl: string,
    detectorName: string,
    options: { seconds?: number; dataChannel?: boolean; deafMs?: number } = {},
  ) {
    const args = [SCRIPT, baseUrl, detectorName, '--seconds', String(options.seconds ?? 30)];
    if (options.dataChannel) args.push('--data-channel');
    if (options.deafMs) args.push('--deaf-ms', String(options.deafMs));
    this.child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim()) this.events.push({ ...(JSON.parse(line) as AiortcEvent), at: Date.now() });
      }
    });
    this.child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** The first event of a kind (and matching `where`), if any yet. */
  find(event: string, where: (e: AiortcEvent) => boolean = () => true): AiortcEvent | undefined {
    return this.events.find((e) => e.event === event && where(e));
  }

  /** Resolves with the first event of a kind; rejects after `timeoutMs` or if the viewer exits. */
  async waitFor(
    event: string,
    timeoutMs: number,
    where: (e: AiortcEvent) => boolean = () => true,
  ): Promise<AiortcEvent> {
    const end = Date.now() + timeoutMs;
    let done = false;
    void this.exited.then(() => (done = true));
    for (;;) {
      const found = this.find(event, where);
      if (found) return found;
      if (done || Date.now() > end) {
        throw new Error(
          `aiortc viewer: no '${event}' within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr.join('').slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Closes its peer and DELETEs its WHEP session, then waits for the process (killed after 5 s). */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.stdin.writable) this.child.stdin.end('close\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
