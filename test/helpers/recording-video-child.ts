// A server that records in its own process, so that a test can kill it (SIGKILL) mid-recording
// and read what a crash leaves on disk. Prints `written <n>` as frames reach the file.
import { startTestServer } from './server.js';
import { videoContext, videoFormat } from './recording-video.js';

const [format, path] = process.argv.slice(2) as ['mp4' | 'webm', string];
const server = await startTestServer(`
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  webrtc: { keyframe_interval_ms: 500 }
`);
const recording = await videoFormat(server, format).start(videoContext(path));
setInterval(() => process.stdout.write(`written ${recording.stats.framesWritten}\n`), 100);
