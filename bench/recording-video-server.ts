import { DEFAULT_RECORDING_QUEUE_FRAMES } from '../src/core/frame-recording.js';
// A liveview server for the video recording bench, in its own process so that its CPU can be read
// from /proc apart from the viewers': `startServer` on the YAML in LIVEVIEW_BENCH_CONFIG, sends
// `{url}` over IPC once it listens; on `{cmd: 'record', path}` starts an `mp4` recording of
// `Camera` through the WebRTC protocol's format and answers `{type: 'recording'}`; on
// `{cmd: 'stop'}` stops it and answers `{type: 'stopped', stats}`. Ends when the parent goes away.
import 'reflect-metadata';
import { pino } from 'pino';
import { startServer, type LiveViewServer } from '../src/api/server.js';
import type { RecordingSink } from '../src/core/recording.js';

let server: LiveViewServer | undefined;
let recording: RecordingSink | undefined;

function send(message: object): void {
  process.send?.(message);
}

async function handle(message: { cmd?: string; path?: string }): Promise<void> {
  try {
    if (message.cmd === 'record' && server && message.path) {
      const protocol = server.controller.registry.findProtocol('webrtc');
      const format = protocol?.recordingFormats?.().find((f) => f.name === 'mp4');
      if (!format) throw new Error('the server has no mp4 recording format');
      recording = await format.start({
        path: message.path,
        detectorName: 'Camera',
        params: {},
        queueFrames: DEFAULT_RECORDING_QUEUE_FRAMES,
        logger: pino({ level: 'silent' }),
        subscribeFrames: () => Promise.reject(new Error('not used by mp4')),
      });
      send({ type: 'recording' });
    } else if (message.cmd === 'stop') {
      await recording?.stop();
      const stats = recording?.stats;
      recording = undefined;
      send({
        type: 'stopped',
        stats: stats && {
          framesWritten: stats.framesWritten,
          framesDropped: stats.framesDropped,
          bytesWritten: stats.bytesWritten,
        },
      });
    }
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  }
}

async function stop(code: number): Promise<void> {
  setTimeout(() => process.exit(code), 4500).unref();
  try {
    await recording?.stop();
    await server?.stop();
  } finally {
    process.exit(code);
  }
}

process.once('SIGTERM', () => void stop(0));
process.once('disconnect', () => void stop(0));
process.on('message', (m) => void handle(m as { cmd?: string; path?: string }));

try {
  server = await startServer({ configText: process.env.LIVEVIEW_BENCH_CONFIG ?? '' });
  send({ url: server.url });
} catch (err) {
  process.stderr.write(`bench server: ${err instanceof Error ? err.message : String(err)}\n`);
  await stop(1);
}
