import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodePixelCode } from '../../src/core/pixel-code.js';

/** The endpoint script, in the source tree (tests run from the build folder). */
const SCRIPT = fileURLToPath(new URL('../../../test/helpers/whip-endpoint.py', import.meta.url));
/** Debian's python3-aiortc installs for the system Python. */
const PYTHON = process.env.LIVEVIEW_AIORTC_PYTHON ?? '/usr/bin/python3';

/** One line whip-endpoint.py reported. */
export interface WhipEvent {
  event: string;
  id?: string;
  authorization?: string | null;
  count?: number;
  width?: number;
  height?: number;
  /** Frame number read from the picture's pixel code (frames with a luma plane only). */
  frameNumber?: number;
  [key: string]: unknown;
}

/** A WHIP endpoint on aiortc in a child process (test/helpers/whip-endpoint.py), on 127.0.0.1. */
export class WhipEndpoint {
  readonly events: WhipEvent[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<void>;

  constructor(
    readonly port: number,
    token: string,
  ) {
    this.child = spawn(PYTHON, [SCRIPT, String(port), token], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.events.push(parse(line));
    });
    this.child.stderr.on('data', (c: Buffer) => this.stderr.push(c.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', () => resolve()));
  }

  /** The POST URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/whip`;
  }

  /** Events of a kind. */
  all(event: string): WhipEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** Frame numbers read from the decoded pictures, in order. */
  get frameNumbers(): number[] {
    return this.all('frame').flatMap((e) => (e.frameNumber === undefined ? [] : [e.frameNumber]));
  }

  /** Resolves once an event of a kind (matching `where`) came; rejects after `timeoutMs`. */
  async waitFor(event: string, timeoutMs: number, where: (e: WhipEvent) => boolean = () => true) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event === event && where(e));
      if (found) return found;
      if (Date.now() > end || this.child.exitCode !== null) {
        throw new Error(
          `WHIP endpoint: no '${event}' within ${timeoutMs} ms; events: ${JSON.stringify(
            this.events.map((e) => e.event).slice(-30),
          )}; stderr: ${this.stderr.join('').slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Has the endpoint send a PLI (RTCP picture loss indication) on each session it receives. */
  sendPli(): void {
    this.child.stdin.write('pli\n');
  }

  /** Kills the process at once, as an endpoint that goes away. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops the process (stdin closed; killed after 5 s). */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.stdin.writable) this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

function parse(line: string): WhipEvent {
  const event = JSON.parse(line) as WhipEvent & { y?: string };
  if (event.y && event.width && event.height) {
    const y = Buffer.from(event.y, 'base64');
    event.frameNumber = decodePixelCode(y, event.width, event.height, 1)?.frameNumber;
    delete event.y;
  }
  return event;
}
