// A liveview server for the benches, in its own process so that its CPU can be read from
// /proc/<pid>/stat apart from the clients': `startServer` on the YAML in LIVEVIEW_BENCH_CONFIG;
// prints `{"benchUrl": …}` and sends `{url}` over IPC once it listens; stops on SIGTERM or when
// the parent (IPC channel) goes away.
import 'reflect-metadata';
import { startServer, type LiveViewServer } from '../src/api/server.js';

let server: LiveViewServer | undefined;
let stopping = false;

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // A stop that hangs must not keep the process alive.
  setTimeout(() => process.exit(code), 4500).unref();
  try {
    await server?.stop();
  } finally {
    process.exit(code);
  }
}

process.once('SIGTERM', () => void stop(0));
process.once('SIGINT', () => void stop(0));
process.once('disconnect', () => void stop(0));

try {
  server = await startServer({ configText: process.env.LIVEVIEW_BENCH_CONFIG ?? '' });
  process.stdout.write(`${JSON.stringify({ benchUrl: server.url })}\n`);
  process.send?.({ url: server.url });
} catch (err) {
  process.stderr.write(`bench server: ${err instanceof Error ? err.message : String(err)}\n`);
  await stop(1);
}
