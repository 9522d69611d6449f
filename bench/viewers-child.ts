// N clients of one liveview stream that only count frames, in a process of their own so that the
// server's CPU (and the bench's) is measured without them. BENCH_VIEWERS_URL, _KIND and _COUNT say
// what: webrtc = werift peers through the seed's POST /liveview/webrtc_offer that count RTP marker
// bits (once per timestamp) and never decode; mjpeg = raw multipart readers that count parts. It
// sends `{type: 'ready', retries}` (or `{type: 'failed', error}`) over IPC, answers `{cmd:
// 'counts', id}` with `{type: 'counts', id, counts, cpu}`, and ends on SIGTERM or when the parent
// goes away.
import { PartCounter } from './part-counter.js';
import { RTCPeerConnection, useH264, useVP8, useNACK, usePLI, useREMB } from 'werift';
import { onlyCandidatesOn } from '../src/protocols/webrtc/peer.js';

interface Counter {
  frames(): number;
  close(): Promise<void> | void;
}

/** Milliseconds one connection attempt may take. */
const ATTEMPT_TIMEOUT_MS = 20_000;
/** Attempts per client before the whole process gives up. */
const ATTEMPTS = 3;
/** Why attempts failed (reported with `ready`). */
const retries: string[] = [];

/** A werift viewer that only counts frames (marker bits of new RTP timestamps), as bench/webrtc.ts's countingViewer. */
async function webrtcViewer(url: string, phase: (p: string) => void): Promise<Counter> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceUseIpv6: false,
    iceUseTcp: false,
    bundlePolicy: 'max-bundle',
    // Both codecs offered, as a browser does: the server's `codec` param picks.
    codecs: {
      video: [
        useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] }),
        useH264({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] }),
      ],
    },
  });
  try {
    let frames = 0;
    let last: number | undefined;
    const t = pc.addTransceiver('video', { direction: 'recvonly' });
    t.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) => {
        if (!rtp.header.marker) return;
        // A frame's last packet, counted once: a retransmission (NACK) repeats an older timestamp.
        const ts = rtp.header.timestamp;
        if (last !== undefined && ((ts - last) >>> 0 === 0 || (ts - last) >>> 0 >= 0x8000_0000))
          return;
        last = ts;
        frames++;
      }),
    );
    phase('gathering');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve());
    });
    phase('offer posted');
    const res = await fetch(`${url}/liveview/webrtc_offer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        detectorName: 'Camera',
        sdp: onlyCandidatesOn(pc.localDescription!.sdp, ['127.0.0.1']),
        type: 'offer',
      }),
    });
    const answer = (await res.json()) as { sdp?: string; message?: string };
    if (!res.ok || !answer.sdp) throw new Error(`webrtc_offer ${res.status}: ${answer.message}`);
    const connected = new Promise<void>((resolve, reject) => {
      pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') resolve();
        else if (state === 'failed' || state === 'closed')
          reject(new Error(`werift peer ${state}`));
      });
    });
    connected.catch(() => undefined); // awaited below; a failure before that is not unhandled
    phase('answer received');
    pc.connectionStateChange.subscribe((state) => phase(`peer ${state}`));
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    // Ready means connected (ICE and DTLS), so that the warm-up starts from media flowing.
    await connected;
    return { frames: () => frames, close: () => pc.close() };
  } catch (err) {
    await pc.close();
    throw err;
  }
}

function mjpegViewer(url: string, phase: (p: string) => void): Promise<Counter> {
  phase('requested');
  return new Promise((resolve, reject) => {
    const counter = new PartCounter(`${url}/liveview/mjpeg?detectorName=Camera`, (err) => {
      if (err) {
        counter.close();
        reject(err);
      } else resolve(counter);
    });
  });
}

function timeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const url = process.env.BENCH_VIEWERS_URL ?? '';
const kind = process.env.BENCH_VIEWERS_KIND ?? 'webrtc';
const count = Number(process.env.BENCH_VIEWERS_COUNT ?? 1);
const viewers: Counter[] = [];
let ending = false;

async function end(code: number): Promise<void> {
  if (ending) return;
  ending = true;
  setTimeout(() => process.exit(code), 3000).unref();
  await Promise.allSettled(viewers.map(async (v) => v.close()));
  process.exit(code);
}

process.once('SIGTERM', () => void end(0));
process.once('disconnect', () => void end(0));
process.on('message', (m: { cmd?: string; id?: number }) => {
  if (m.cmd !== 'counts') return;
  const usage = process.cpuUsage();
  process.send?.({
    type: 'counts',
    id: m.id,
    counts: viewers.map((v) => v.frames()),
    cpu: (usage.user + usage.system) / 1e6,
  });
});

/** What each client is doing while it connects, for the message when it does not. */
const phases: string[] = [];

function phaseSummary(): string {
  const n = new Map<string, number>();
  for (const p of phases) n.set(p, (n.get(p) ?? 0) + 1);
  return [...n].map(([p, k]) => `${k} ${p}`).join(', ');
}

try {
  const connect = kind === 'mjpeg' ? mjpegViewer : webrtcViewer;
  // All at once, as bench/webrtc.ts does. On a loaded machine a peer sometimes never finishes
  // connecting or is closed while it connects: it is retried (counted, and reported).
  const all = await Promise.all(
    Array.from({ length: count }, async (_, k) => {
      for (let attempt = 1; ; attempt++) {
        phases[k] = 'starting';
        try {
          const v = await timeout(
            connect(url, (p) => (phases[k] = p)),
            ATTEMPT_TIMEOUT_MS,
          );
          phases[k] = 'connected';
          return v;
        } catch (err) {
          if (attempt >= ATTEMPTS) throw err;
          retries.push(
            `client ${k + 1}: ${err instanceof Error ? err.message : String(err)} (${phases[k]})`,
          );
        }
      }
    }),
  );
  viewers.push(...all);
  process.send?.({ type: 'ready', retries });
} catch (err) {
  const why = err instanceof Error ? err.message : String(err);
  process.send?.({ type: 'failed', error: `${why} (clients: ${phaseSummary()})` });
  await end(1);
}
