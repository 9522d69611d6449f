import { fork } from 'node:child_process';
import http from 'node:http';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  addTally,
  binaryChurnClient,
  binaryChurnKind,
  mjpegAbortAfterRequest,
  mjpegAbortInHead,
  mjpegChurnClient,
  neverAckBinaryClient,
  openClients,
  pausedAckingBinaryClient,
  pausedMjpegClient,
  pool,
  sleep,
  unfinishedOffer,
  whepPostDelete,
  withTimeout,
  type Closable,
  type Tally,
} from './soak-clients.js';
import type { ProbeMessage } from './soak-probe.js';
import { SoakServer, type Crash, type ProcSample } from './soak-server.js';
import { cpuSeconds, fmt, median, printTable } from './stats.js';

/**
 * `npm run soak`: churn and abuse against the real server (the built CLI in a child process, on
 * 127.0.0.1 and a free port, mock camera 640x480 uint16 at 30 fps), showing whether its memory
 * and file descriptors stay bounded and whether well-behaved clients keep their frame rate.
 *
 * Phases: a quiet baseline; then SOAK_ROUNDS rounds of MJPEG churn (connect, read 1 or 2 parts,
 * close; some hang up before the response headers), binary churn (hello + a frame, then ack and
 * close, never ack, or hang up without a close frame) and WebRTC churn (offers and WHEP POSTs
 * whose peers never connect, WHEP POST + DELETE pairs); then the misbehaving clients (MJPEG
 * readers that stop reading, binary clients that never ack, binary clients that stop reading
 * but ack every 20 ms), one kind after another or, with SOAK_ABUSE_MODE=mixed, all at once.
 * After each phase the soak waits SOAK_QUIET_SECONDS and reads the server again. Throughout,
 * a separate process (soak-probe.ts) runs one MJPEG reader and one binary client that acks every
 * frame, and times GET /health.
 *
 * Every count is an environment variable (`CONFIG` below has the names and defaults). The table
 * goes to stdout, progress to stderr. Exit code 0, also when something looks bad; 1 only if the
 * server crashed (its stderr and last log lines are printed); 2 for an invalid variable.
 */

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`soak: ${name} must be a number >= 0, got '${raw}'`);
    process.exit(2);
  }
  return value;
}

const CONFIG = {
  rounds: envNumber('SOAK_ROUNDS', 2),
  width: envNumber('SOAK_WIDTH', 640),
  height: envNumber('SOAK_HEIGHT', 480),
  fps: envNumber('SOAK_FPS', 30),
  concurrency: envNumber('SOAK_CONCURRENCY', 20),
  mjpegClients: envNumber('SOAK_MJPEG_CLIENTS', 1000),
  mjpegAborts: envNumber('SOAK_MJPEG_ABORTS', 100),
  binaryClients: envNumber('SOAK_BINARY_CLIENTS', 500),
  webrtcOffers: envNumber('SOAK_WEBRTC_OFFERS', 200),
  whepPairs: envNumber('SOAK_WHEP_PAIRS', 50),
  webrtcConcurrency: envNumber('SOAK_WEBRTC_CONCURRENCY', 10),
  abuseSeconds: envNumber('SOAK_ABUSE_SECONDS', 60),
  /** split: one misbehaving kind after another (SOAK_ABUSE_SECONDS shared); mixed: all at once. */
  abuseMode: process.env.SOAK_ABUSE_MODE === 'mixed' ? 'mixed' : 'split',
  abuseMjpegPaused: envNumber('SOAK_ABUSE_MJPEG_PAUSED', 20),
  abuseBinaryNoAck: envNumber('SOAK_ABUSE_BINARY_NOACK', 20),
  abuseBinaryPausedAck: envNumber('SOAK_ABUSE_BINARY_PAUSED_ACK', 2),
  quietSeconds: envNumber('SOAK_QUIET_SECONDS', 10),
  baselineSeconds: envNumber('SOAK_BASELINE_SECONDS', 10),
  /** An abuse phase ends early once the server's RSS passes this (keeps the machine alive). */
  maxRssMb: envNumber('SOAK_MAX_RSS_MB', 4096),
};

const DETECTOR = 'Camera';
const SAMPLE_MS = 200;

const server = await SoakServer.start(`logging: { level: info }
detectors:
  ${DETECTOR}:
    type: mock
    options: { width: ${CONFIG.width}, height: ${CONFIG.height}, dtype: uint16, bit_depth: 12, fps: ${CONFIG.fps} }
protocols:
  mjpeg: { throttle_ms: 0 }
  binary: { throttle_ms: 0 }
  webrtc: { throttle_ms: 0, ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
`);
const mjpegUrl = `${server.url}/liveview/mjpeg?detectorName=${DETECTOR}`;
const binaryUrl = `${server.url.replace('http', 'ws')}/liveview/binary?detectorName=${DETECTOR}`;

// ---------------------------------------------------------------------------------------------
// Monitoring: /proc every 200 ms (peaks), the well-behaved clients and /health every second.

interface Tick {
  t: number;
  mjpeg: number;
  binary: number;
}

const monitor = {
  peak: { rssMb: 0, fds: 0 } as ProcSample,
  last: { rssMb: 0, fds: 0 } as ProcSample,
  ticks: [] as Tick[],
  /** RSS readings of the running phase, for its trend. */
  series: [] as { t: number; rssMb: number }[],
  healthMaxMs: NaN,
  healthFailures: 0,
};
let harnessErrors = 0;
const harnessErrorMessages = new Set<string>();

function harnessError(err: unknown): void {
  harnessErrors++;
  if (harnessErrorMessages.size < 5) harnessErrorMessages.add(String(err).slice(0, 200));
}
process.on('unhandledRejection', harnessError);
process.on('uncaughtException', harnessError);

const procTimer = setInterval(() => {
  server.sample().then((s) => {
    if (!Number.isFinite(s.rssMb)) return; // the process is exiting: no VmRSS any more
    monitor.last = s;
    monitor.series.push({ t: Date.now(), rssMb: s.rssMb });
    monitor.peak = {
      rssMb: Math.max(monitor.peak.rssMb, s.rssMb),
      fds: Math.max(monitor.peak.fds, s.fds),
    };
  }, harnessError);
}, SAMPLE_MS);

// The well-behaved clients and the /health probe run in a process of their own (bench/soak-probe.ts).
const drops: string[] = [];
const probe = fork(fileURLToPath(new URL('./soak-probe.js', import.meta.url)), [
  mjpegUrl,
  binaryUrl,
  `${server.url}/health`,
]);
const probeExited = new Promise<void>((resolve) => probe.once('exit', () => resolve()));
const probeReady = withTimeout(
  new Promise<void>((resolve, reject) => {
    probe.on('message', (m: ProbeMessage) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'tick') monitor.ticks.push({ t: m.t, mjpeg: m.mjpeg, binary: m.binary });
      else if (m.type === 'health') {
        if (!m.ok) monitor.healthFailures++;
        monitor.healthMaxMs = Math.max(monitor.healthMaxMs || 0, m.ms);
      } else if (m.type === 'drop') drops.push(m.text);
      else {
        harnessError(`probe: ${m.text}`);
        reject(new Error(m.text));
      }
    });
    probe.once('exit', (code) => reject(new Error(`the probe process exited (${code})`)));
  }),
  15_000,
  'well-behaved clients',
);
probeReady.catch(() => undefined); // awaited in run()

/** Least-squares slope of RSS (MB/s) over the second half of `t0..t1`: ~0 once memory is bounded. */
function rssTrend(t0: number, t1: number): number {
  if (t1 - t0 < 4000) return NaN; // too short to tell a trend from noise
  const pts = monitor.series.filter((p) => p.t >= (t0 + t1) / 2 && p.t <= t1);
  if (pts.length < 3) return NaN;
  const mt = pts.reduce((a, p) => a + p.t, 0) / pts.length;
  const mr = pts.reduce((a, p) => a + p.rssMb, 0) / pts.length;
  const num = pts.reduce((a, p) => a + (p.t - mt) * (p.rssMb - mr), 0);
  const den = pts.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return (num / den) * 1000;
}

/** Frames per second of each second from `t0` to `t1` (the ticks around them included). */
function perSecond(t0: number, t1: number, key: 'mjpeg' | 'binary'): number[] {
  const after = monitor.ticks.findIndex((x) => x.t > t0);
  const first = after < 0 ? monitor.ticks.length - 1 : Math.max(0, after - 1);
  const last = monitor.ticks.findIndex((x) => x.t >= t1);
  const ticks = monitor.ticks.slice(first, last < 0 ? undefined : last + 1);
  const rates: number[] = [];
  for (let i = 1; i < ticks.length; i++)
    rates.push(((ticks[i][key] - ticks[i - 1][key]) * 1000) / (ticks[i].t - ticks[i - 1].t));
  return rates;
}

// ---------------------------------------------------------------------------------------------
// Phases

interface Row {
  phase: string;
  round: string;
  seconds: number;
  before: ProcSample;
  peak: ProcSample;
  after: ProcSample;
  trend: number;
  mjpegFps: number[];
  binaryFps: number[];
  cpu: number;
  healthMaxMs: number;
  sessions: string;
  clients: string;
  logs: string;
  load: number;
}

const rows: Row[] = [];
/** The phase running now, for a crash report. */
let current: { label: string; t0: number } | undefined;
const notes: string[] = [];

/** The stream's client counts now, e.g. `m1 b1 w0` (mjpeg, binary, webrtc; `-` = no stream). */
async function sessions(): Promise<string> {
  try {
    // A connection of its own that the server closes at once, so it never shows in the next fd count.
    const body = await withTimeout(
      new Promise<string>((resolve, reject) => {
        http
          .get(`${server.url}/liveview/getActiveStreams`, { agent: false }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => resolve(text));
            res.on('error', reject);
          })
          .on('error', reject);
      }),
      5000,
      'getActiveStreams',
    );
    const { streams } = JSON.parse(body) as {
      streams: { protocol: string; clientCount: number }[];
    };
    const count = (p: string) => {
      const s = streams.filter((x) => x.protocol === p);
      return s.length === 0 ? '-' : String(s.reduce((n, x) => n + x.clientCount, 0));
    };
    return `m${count('mjpeg')} b${count('binary')} w${count('webrtc')}`;
  } catch (err) {
    return `? (${(err as Error).message})`;
  }
}

function tallyText(tally: Tally | undefined, label: string): string {
  if (!tally) return '-';
  for (const [message, n] of tally.errors) notes.push(`${label}: ${n}x failed: ${message}`);
  return `${tally.ok} / ${tally.failed}`;
}

/** Runs one phase: samples before, peak (during it and the quiet after), after the quiet. */
async function phase(
  name: string,
  round: string,
  work: () => Promise<Tally | undefined>,
  quietSeconds = CONFIG.quietSeconds,
) {
  const label = round === '' ? name : `${name} (round ${round})`;
  console.error(`soak: ${label}…`);
  const before = await server.sample();
  monitor.peak = before;
  monitor.series = [];
  monitor.healthMaxMs = NaN; // '-' unless a /health answer (or timeout) falls in the phase
  const warn0 = server.logs.warn;
  const error0 = server.logs.error;
  const cpu0 = await cpuSeconds(server.pid);
  const t0 = Date.now();
  current = { label, t0 };
  const tally = await work();
  const t1 = Date.now();
  const cpu = ((await cpuSeconds(server.pid)) - cpu0) / ((t1 - t0) / 1000);
  const healthMaxMs = monitor.healthMaxMs;
  await sleep(quietSeconds * 1000);
  const after = await server.sample();
  rows.push({
    phase: name,
    round,
    seconds: (t1 - t0) / 1000,
    before,
    peak: {
      rssMb: Math.max(monitor.peak.rssMb, after.rssMb),
      fds: Math.max(monitor.peak.fds, after.fds),
    },
    after,
    trend: rssTrend(t0, t1),
    mjpegFps: perSecond(t0, t1, 'mjpeg'),
    binaryFps: perSecond(t0, t1, 'binary'),
    cpu: cpu * 100,
    healthMaxMs,
    sessions: await sessions(),
    clients: tallyText(tally, label),
    logs: `${server.logs.warn - warn0} / ${server.logs.error - error0}`,
    load: loadavg()[0],
  });
  current = undefined;
}

/** Holds misbehaving clients for `seconds` (less if the server's RSS passes the cap). */
async function abuse(
  label: string,
  seconds: number,
  open: () => Promise<Closable>[],
): Promise<Tally> {
  const tally: Tally = { ok: 0, failed: 0, errors: new Map() };
  const clients: Closable[] = [];
  for (const result of await Promise.allSettled(open())) {
    if (result.status === 'fulfilled') {
      tally.ok++;
      clients.push(result.value);
    } else {
      tally.failed++;
      const key = String(result.reason).slice(0, 120);
      tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
    }
  }
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  while (Date.now() < end) {
    await sleep(SAMPLE_MS);
    if (monitor.last.rssMb > CONFIG.maxRssMb) {
      notes.push(
        `${label}: stopped after ${fmt((Date.now() - t0) / 1000)} s of ${seconds} s: server RSS ${fmt(monitor.last.rssMb, 0)} MB > SOAK_MAX_RSS_MB=${CONFIG.maxRssMb}`,
      );
      break;
    }
  }
  for (const c of clients) {
    await c.close();
    openClients.delete(c);
  }
  return tally;
}

const n = (count: number, make: () => Promise<Closable>) => () =>
  Array.from({ length: count }, make);

// ---------------------------------------------------------------------------------------------
// The run

/** Prints the table (also when the server crashed: whatever was measured until then). */
function report(): void {
  const q = CONFIG.quietSeconds;
  const triple = (f: (s: ProcSample) => number, d: number) => (r: Row) =>
    `${fmt(f(r.before), d)} / ${fmt(f(r.peak), d)} / ${fmt(f(r.after), d)}`;
  const fps = (v: number[]) => `${fmt(Math.min(...v))} / ${fmt(median(v))}`;
  printTable(
    `soak: mock camera ${CONFIG.width}x${CONFIG.height} uint16 at ${CONFIG.fps} fps, MJPEG and binary unthrottled (a well-behaved client should get ${CONFIG.fps} fps); server in its own process (node ${process.version})`,
    [
      'phase',
      'round',
      'active s',
      `RSS MB before / peak / +${q} s`,
      'RSS MB/s, 2nd half',
      `fds before / peak / +${q} s`,
      'MJPEG fps min / median',
      'binary fps min / median',
      'server CPU %',
      '/health max ms',
      `clients on streams +${q} s`,
      'phase clients ok / failed',
      'server warn / error logs',
      'load 1 min',
    ],
    rows.map((r) => [
      r.phase,
      r.round,
      fmt(r.seconds),
      triple((s) => s.rssMb, 0)(r),
      fmt(r.trend, 1),
      triple((s) => s.fds, 0)(r),
      fps(r.mjpegFps),
      fps(r.binaryFps),
      fmt(r.cpu, 0),
      fmt(r.healthMaxMs, 0),
      r.sessions,
      r.clients,
      r.logs,
      fmt(r.load, 2),
    ]),
  );
  console.log(
    `\nclients on streams: m/b/w = MJPEG/binary/WebRTC sessions the server lists (the two well-behaved clients are m1 b1; '-' = no such stream).`,
  );
  const churn = ['MJPEG churn', 'binary churn', 'WebRTC churn'];
  const growth = churn.flatMap((name) => {
    const r = rows.filter((x) => x.phase === name);
    if (r.length < 2) return [];
    const rss = r.map((x) => fmt(x.after.rssMb, 0)).join(', ');
    const fds = r.map((x) => x.after.fds).join(', ');
    const peaks = r.map((x) => x.peak.fds).join(', ');
    return [
      `${name}, rounds 1..${r.length}: RSS +${q} s ${rss} MB; fds +${q} s ${fds}; fd peaks ${peaks}`,
    ];
  });
  if (growth.length > 0) console.log(`\nAcross rounds:\n${growth.map((g) => `- ${g}`).join('\n')}`);
  const [l1, l5, l15] = loadavg();
  console.log(`\nLoad average at the end: ${fmt(l1, 2)} ${fmt(l5, 2)} ${fmt(l15, 2)}`);
  const extra = [
    ...notes,
    ...drops.map((d) => `well-behaved client dropped: ${d}`),
    ...(monitor.healthFailures > 0 ? [`/health failed ${monitor.healthFailures} times`] : []),
    ...[...server.logs.messages].map(([m, count]) => `server log ${count}x ${m}`),
    ...(harnessErrors > 0
      ? [`harness errors: ${harnessErrors} (${[...harnessErrorMessages].join('; ')})`]
      : []),
  ];
  if (extra.length > 0) console.log(`\nNotes:\n${extra.map((x) => `- ${x}`).join('\n')}`);
}

async function closeEverything(): Promise<void> {
  clearInterval(procTimer);
  if (probe.connected) probe.send({ type: 'stop' });
  await withTimeout(probeExited, 5000, 'probe exit').catch(() => probe.kill('SIGKILL'));
  await Promise.allSettled([...openClients].map(async (c) => c.close()));
  openClients.clear();
}

void server.crashed.then(async (crash: Crash) => {
  await closeEverything().catch(() => undefined);
  if (current) {
    notes.push(
      `the server crashed during ${current.label}, ${fmt((Date.now() - current.t0) / 1000)} s in; last reading RSS ${fmt(monitor.last.rssMb, 0)} MB, ${monitor.last.fds} fds; peak in the phase RSS ${fmt(monitor.peak.rssMb, 0)} MB, ${monitor.peak.fds} fds`,
    );
  }
  report();
  const killed =
    crash.signal === 'SIGKILL' ? ' (SIGKILL from outside: the kernel OOM killer? see dmesg)' : '';
  console.log(
    `\n**The server crashed** (exit code ${crash.code}, signal ${crash.signal}${killed}). Its stderr:\n\n\`\`\`\n${crash.stderr}\n\`\`\`\n\nThe last lines of its log:\n\n\`\`\`\n${crash.stdoutTail.join('\n')}\n\`\`\``,
  );
  process.exit(1);
});

/** The phases, in order. */
async function run(): Promise<void> {
  await probeReady;
  console.error(`soak: server ${server.url} (pid ${server.pid}); ${JSON.stringify(CONFIG)}`);
  // The baseline is quiet already: its 'after' is read at its end.
  await phase(
    'baseline',
    '',
    async () => {
      await sleep(CONFIG.baselineSeconds * 1000);
      return undefined;
    },
    0,
  );

  for (let round = 1; round <= CONFIG.rounds; round++) {
    const r = String(round);
    await phase('MJPEG churn', r, () => {
      const total = CONFIG.mjpegClients + CONFIG.mjpegAborts;
      // Aborts are spread evenly among the normal clients; half in the request head, half after.
      const aborts = new Map<number, number>();
      for (let k = 0; k < CONFIG.mjpegAborts; k++)
        aborts.set(Math.floor((k * total) / CONFIG.mjpegAborts), k);
      return pool(total, CONFIG.concurrency, async (i) => {
        const k = aborts.get(i);
        if (k === undefined) await mjpegChurnClient(mjpegUrl, 1 + (i % 2));
        else if (k % 2 === 0) await mjpegAbortAfterRequest(mjpegUrl);
        else await mjpegAbortInHead(mjpegUrl);
      });
    });
    await phase('binary churn', r, () =>
      pool(CONFIG.binaryClients, CONFIG.concurrency, (i) =>
        binaryChurnClient(binaryUrl, binaryChurnKind(i)),
      ),
    );
    await phase('WebRTC churn', r, async () => {
      const offers = await pool(CONFIG.webrtcOffers, CONFIG.webrtcConcurrency, (i) =>
        unfinishedOffer(server.url, DETECTOR, i % 2 === 1),
      );
      const pairs = await pool(CONFIG.whepPairs, CONFIG.webrtcConcurrency, () =>
        whepPostDelete(server.url, DETECTOR),
      );
      return addTally(offers, pairs);
    });
  }

  const mjpegPaused = n(CONFIG.abuseMjpegPaused, () => pausedMjpegClient(mjpegUrl));
  const binaryNoAck = n(CONFIG.abuseBinaryNoAck, () => neverAckBinaryClient(binaryUrl));
  const binaryPausedAck = n(CONFIG.abuseBinaryPausedAck, () => pausedAckingBinaryClient(binaryUrl));
  if (CONFIG.abuseMode === 'mixed' && CONFIG.abuseSeconds > 0) {
    await phase(
      `abuse: ${CONFIG.abuseMjpegPaused} MJPEG paused + ${CONFIG.abuseBinaryNoAck} binary never ack + ${CONFIG.abuseBinaryPausedAck} binary paused, ack/20 ms`,
      '',
      () =>
        abuse('abuse (mixed)', CONFIG.abuseSeconds, () => [
          ...mjpegPaused(),
          ...binaryNoAck(),
          ...binaryPausedAck(),
        ]),
    );
  } else {
    // The paused + acking clients last: they cost the most memory and would hide what the others cost.
    type Kind = [name: string, count: number, open: () => Promise<Closable>[]];
    const all: Kind[] = [
      [`abuse: ${CONFIG.abuseMjpegPaused} MJPEG paused`, CONFIG.abuseMjpegPaused, mjpegPaused],
      [`abuse: ${CONFIG.abuseBinaryNoAck} binary never ack`, CONFIG.abuseBinaryNoAck, binaryNoAck],
      [
        `abuse: ${CONFIG.abuseBinaryPausedAck} binary paused, ack/20 ms`,
        CONFIG.abuseBinaryPausedAck,
        binaryPausedAck,
      ],
    ];
    const kinds = CONFIG.abuseSeconds > 0 ? all.filter(([, count]) => count > 0) : [];
    const seconds = CONFIG.abuseSeconds / Math.max(1, kinds.length);
    for (const [name, , open] of kinds) await phase(name, '', () => abuse(name, seconds, open));
  }
}

try {
  await run();
} catch (err) {
  // Exit code 0 all the same: only a crash of the server fails the soak.
  notes.push(`the soak stopped early: ${err instanceof Error ? err.message : String(err)}`);
}
await closeEverything();
const stopped = await server.stop();
report();
console.log(
  `\nServer stop on SIGTERM: exit code ${stopped.code}${stopped.signal ? `, signal ${stopped.signal}` : ''} after ${fmt(stopped.ms, 0)} ms${stopped.killed ? ' (did not stop within 10 s: SIGKILL)' : ''}.`,
);
process.exit(0);
