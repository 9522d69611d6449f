import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { discoverDevices } from '../../src/plugins/genicam/discovery.js';

const FAKE = 'arv-fake-gv-camera-0.8';
const TOOL = 'arv-tool-0.8';

/** Why Aravis's tools cannot run here, or undefined when they can. */
export function missingAravis(): string | undefined {
  for (const tool of [FAKE, TOOL]) {
    if (spawnSync('which', [tool]).status !== 0)
      return `${tool} is not installed (apt-get install aravis-tools aravis-tools-cli)`;
  }
  return undefined;
}

/** Aravis's fake GigE Vision camera on 127.0.0.1, run as a child process. */
export class FakeGvCamera {
  private child: ChildProcess | undefined;

  /** `lossPerThousand`: GVSP packets the camera drops out of every 1000 (its -r option). */
  constructor(private readonly lossPerThousand = 0) {}

  /** Starts it and resolves once it answers discovery. */
  async start(): Promise<void> {
    const args = ['-i', '127.0.0.1'];
    if (this.lossPerThousand > 0) args.push('-r', String(this.lossPerThousand));
    const child = spawn(FAKE, args, { stdio: 'ignore' });
    this.child = child;
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      if (child.exitCode !== null) throw new Error(`${FAKE} exited with ${child.exitCode}`);
      const found = await discoverDevices({
        interfaces: [],
        addresses: ['127.0.0.1'],
        timeoutMs: 100,
      });
      if (found.length > 0) return;
    }
    throw new Error(`${FAKE} did not answer discovery within 5 s`);
  }

  /** Kills it (SIGKILL: a camera that vanishes says nothing) and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** Reads features with Aravis's own client: `arv-tool-0.8 -a 127.0.0.1 control …`. */
export async function arvToolControl(...features: string[]): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)(TOOL, ['-a', '127.0.0.1', 'control', ...features]);
  const values: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\w+) = (\S+)/.exec(line.trim());
    if (m) values[m[1]!] = m[2]!;
  }
  return values;
}
