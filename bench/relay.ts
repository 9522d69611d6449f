import { mountpointIdOf } from '../src/protocols/webrtc/relay/janus-mountpoint.js';
import { JanusServer, janusAvailable, janusIceAddress } from '../test/helpers/janus-server.js';
import { measureClients, mean, printFooter, repeat } from './fanout.js';
import { envNumber, loadLine, percentile, reason, sleep, WEBRTC_CODEC } from './harness.js';
import { measureGlass, type GlassResult, type RelayPath } from './relay-glass.js';
import { fmt, median, printTable } from './stats.js';

/** The camera of the other WebRTC benches (1280x720 at 30 fps, pattern noise). */
const CAMERA = `detectors:
  Camera:
    type: mock
    options: { width: 1280, height: 720, fps: 30, pattern: noise }
protocols:
  webrtc: { codec: ${WEBRTC_CODEC}, ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
`;

/** `relays:` with one relay per entry of `servers` (each to its own Janus), in the stream's codec. */
function relaysYaml(servers: JanusServer[][]): string {
  if (servers.length === 0) return '';
  const entries = servers.map(
    (list, i) => `  edge${i}:
    detector: Camera
    codec: ${WEBRTC_CODEC}
    janus:
      servers:
${list.map((s) => `        - { url: '${s.url}', bind: 127.0.0.1 }`).join('\n')}`,
  );
  return `relays:\n${entries.join('\n')}\n`;
}

/** Waits until every relay of a server is live (mountpoints created). */
async function relaysLive(url: string, count: number): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const body = (await (await fetch(`${url}/liveview/relays`)).json()) as {
      relays: { state: string }[];
    };
    if (body.relays.length === count && body.relays.every((r) => r.state === 'live')) return;
    if (Date.now() > end) throw new Error(`relays not live: ${JSON.stringify(body.relays)}`);
    await sleep(100);
  }
}

/**
 * What a relay costs and adds: liveview's CPU with 0, 1 and 2 Janus relays beside one WebRTC
 * viewer (and with a second viewer instead, for comparison), then glass-to-glass latency in
 * headless Chromium directly (WHEP) and through a Janus Streaming mountpoint. Needs Debian's
 * `janus`; two instances are started on loopback for the run.
 */
export async function benchRelay(runs: number, seconds: number): Promise<void> {
  const iceAddress = janusIceAddress();
  if (!janusAvailable() || !iceAddress) {
    console.log(
      '\n### Relays\n\nskipped: no janus binary, or no non-loopback IPv4 address for its ICE',
    );
    return;
  }
  const warmupMs = envNumber('BENCH_WARMUP_MS', 2000);
  const before = loadLine('at start');
  const notes: string[] = [];
  const janus = [await JanusServer.start(iceAddress), await JanusServer.start(iceAddress)];
  try {
    const cases: { label: string; servers: JanusServer[][]; viewers: number }[] = [
      { label: '1 WebRTC viewer, no relay', servers: [], viewers: 1 },
      { label: '1 viewer + 1 Janus relay', servers: [[janus[0]]], viewers: 1 },
      { label: '1 viewer + 2 Janus relays', servers: [[janus[0]], [janus[1]]], viewers: 1 },
      { label: '1 viewer + 1 relay to 2 Janus servers', servers: [janus], viewers: 1 },
      { label: '2 WebRTC viewers, no relay', servers: [], viewers: 2 },
    ];
    const rows: string[][] = [];
    let baseline = NaN;
    for (const c of cases) {
      const results = await repeat(runs, c.label, notes, () =>
        measureClients(
          `${CAMERA}${relaysYaml(c.servers)}`,
          [{ kind: 'webrtc', count: c.viewers }],
          warmupMs,
          seconds,
        ),
      );
      const cpu = median(results.map((r) => r.cpu));
      if (c.servers.length === 0 && c.viewers === 1) baseline = cpu;
      rows.push([
        c.label,
        `${results.length}/${runs}`,
        fmt(cpu),
        fmt(cpu - baseline),
        fmt(median(results.map((r) => r.groups[0].streamFps))),
        fmt(median(results.map((r) => mean(r.groups[0].fps)))),
      ]);
    }
    printTable(
      `Relays: liveview CPU with Janus relays beside one WebRTC viewer; mock 1280x720 at 30 fps, ${WEBRTC_CODEC}, loopback; median of ${runs} runs of ${seconds} s`,
      ['case', 'runs ok', 'server CPU % of a core', 'Δ vs 1 viewer', 'stream fps', 'viewer fps'],
      rows,
    );

    const samples = envNumber('BENCH_SAMPLES', 300);
    const id = mountpointIdOf('edge0');
    const paths: { label: string; path: RelayPath; servers: JanusServer[][] }[] = [
      { label: `direct (WHEP), ${WEBRTC_CODEC}`, path: { kind: 'whep' }, servers: [] },
      {
        label: `through Janus (Streaming mountpoint), ${WEBRTC_CODEC}`,
        path: { kind: 'janus', janusUrl: janus[0].url, mountpointId: id },
        servers: [[janus[0]]],
      },
    ];
    const glassRows: string[][] = [];
    for (const p of paths) {
      const results: GlassResult[] = [];
      for (let r = 0; r < runs; r++) {
        try {
          results.push(
            await measureGlass(
              `${CAMERA}${relaysYaml(p.servers)}`,
              p.path,
              samples,
              warmupMs,
              p.servers.length ? (s) => relaysLive(s.url, p.servers.length) : undefined,
            ),
          );
        } catch (err) {
          notes.push(`glass ${p.path.kind} run ${r + 1} failed: ${reason(err)}`);
        }
      }
      const m = (f: (x: GlassResult) => number): number => median(results.map(f));
      glassRows.push([
        p.label,
        `${results.length}/${runs}`,
        fmt(m((x) => percentile(x.latencies, 50))),
        fmt(m((x) => percentile(x.latencies, 95))),
        fmt(m((x) => x.fps)),
        fmt(m((x) => x.cpu)),
      ]);
    }
    printTable(
      `Relays: glass-to-glass in headless Chromium, direct vs through Janus; Date.now() − capture time per presented frame, ${samples} samples after ${warmupMs / 1000} s warm-up; median of ${runs} runs`,
      ['path', 'runs ok', 'p50 ms', 'p95 ms', 'presented fps', 'server CPU % of a core'],
      glassRows,
    );
  } finally {
    await Promise.all(janus.map((j) => j.stop()));
  }
  printFooter(before, notes);
}
