// The soak's two well-behaved clients and its /health probe, in their own process, so that the
// churn the soak drives (werift peers, hundreds of sockets) cannot stall what they measure.
// Started by bench/soak.ts with fork(); reports over IPC once a second.
import { WellBehavedClients, withTimeout } from './soak-clients.js';

/** What the probe sends its parent. */
export type ProbeMessage =
  | { type: 'ready' }
  | { type: 'tick'; t: number; mjpeg: number; binary: number }
  | { type: 'health'; ms: number; ok: boolean }
  | { type: 'drop'; text: string }
  | { type: 'error'; text: string };

const [mjpegUrl, binaryUrl, healthUrl] = process.argv.slice(2);
const send = (message: ProbeMessage): void => {
  if (process.connected) process.send!(message);
};

const clients = new WellBehavedClients(mjpegUrl, binaryUrl);
let reported = 0;
let healthBusy = false;

const timer = setInterval(() => {
  clients.count();
  send({ type: 'tick', t: Date.now(), mjpeg: clients.mjpegFrames, binary: clients.binaryFrames });
  for (; reported < clients.drops.length; reported++)
    send({ type: 'drop', text: clients.drops[reported] });
  if (healthBusy) return;
  healthBusy = true;
  const t0 = performance.now();
  withTimeout(
    fetch(healthUrl).then((r) => r.text()),
    5000,
    '/health',
  )
    .then(
      () => send({ type: 'health', ms: performance.now() - t0, ok: true }),
      () => send({ type: 'health', ms: performance.now() - t0, ok: false }),
    )
    .finally(() => (healthBusy = false));
}, 1000);

const stop = (): void => {
  clearInterval(timer);
  clients.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('disconnect', stop);
process.on('message', (m: { type?: string }) => m.type === 'stop' && stop());
process.on('uncaughtException', (err) => send({ type: 'error', text: String(err) }));
process.on('unhandledRejection', (err) => send({ type: 'error', text: String(err) }));

try {
  await clients.start();
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'error', text: `well-behaved clients could not connect: ${String(err)}` });
  stop();
}
