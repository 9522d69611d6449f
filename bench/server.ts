import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** A liveview server in its own process, so that its CPU can be measured apart from the clients. */
export interface BenchServer {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Process id (for /proc CPU readings). */
  pid: number;
  /** Stops the server and removes its config. */
  stop(): Promise<void>;
}

/** `server:` keys that turn the per-address rate limits off: benchmarks open clients faster than any viewer. */
export const NO_RATE_LIMITS =
  'rate_limits: { signaling: { max: 0 }, control: { max: 0 }, login: { max: 0 } }';

/** Starts `liveview` on a YAML config (a free port on 127.0.0.1 is added) and waits until it listens. */
export async function startBenchServer(yaml: string): Promise<BenchServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'liveview-bench-'));
  const config = path.join(dir, 'bench.yaml');
  await writeFile(
    config,
    `server: { host: 127.0.0.1, port: 0, ${NO_RATE_LIMITS} }\nlogging: { level: info }\n${yaml}`,
  );
  const child = spawn(process.execPath, [CLI, '-c', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    // Keeps reading stdout after the URL too, so that the server never blocks on a full pipe.
    child.stdout.on('data', (d) => {
      out = (out + d).slice(-4096);
      const m = /"url":"(http:[^"]+)"/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
