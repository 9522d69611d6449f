// A viewer in its own process, so that a test can make it vanish (SIGKILL) without any goodbye.
import { TestViewer } from './webrtc-viewer.js';

const [url, detectorName] = process.argv.slice(2);
const viewer = new TestViewer({ codecs: ['VP8'] });
const res = await fetch(`${url}/liveview/webrtc_offer`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ detectorName, sdp: await viewer.offer(), type: 'offer' }),
});
const answer = (await res.json()) as { sdp: string };
await viewer.accept(answer.sdp);
const timer = setInterval(() => {
  if (viewer.frames.length > 0) {
    clearInterval(timer);
    process.stdout.write('receiving\n');
  }
}, 50);
