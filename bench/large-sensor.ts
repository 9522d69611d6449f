import { envNumber, loadLine, type ViewerKind } from './harness.js';
import { mean, measureClients, printFooter, repeat } from './fanout.js';
import { fmt, median, printTable } from './stats.js';

/** A large sensor: 2048x2048 uint16, 12 significant bits, 30 fps, pattern noise; MJPEG unthrottled. */
const CAMERA = `detectors:
  Camera:
    type: mock
    options: { width: 2048, height: 2048, dtype: uint16, bit_depth: 12, fps: 30, pattern: noise }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
  mjpeg: { throttle_ms: 0 }
`;

const CASES: { label: string; groups: { kind: ViewerKind; count: number }[] }[] = [
  { label: '10 MJPEG clients', groups: [{ kind: 'mjpeg', count: 10 }] },
  { label: '1 WebRTC viewer', groups: [{ kind: 'webrtc', count: 1 }] },
  {
    label: 'both at once',
    groups: [
      { kind: 'mjpeg', count: 10 },
      { kind: 'webrtc', count: 1 },
    ],
  },
];

/** 2048x2048 uint16 at 30 fps to 10 raw MJPEG clients and to 1 non-decoding werift viewer (separate processes). */
export async function benchLargeSensor(runs: number): Promise<void> {
  const seconds = envNumber('BENCH_FANOUT_SECONDS', 8);
  const warmupMs = envNumber('BENCH_WARMUP_MS', 2000);
  const before = loadLine('at start');
  const notes: string[] = [];
  const rows: string[][] = [];
  for (const c of CASES) {
    const results = await repeat(runs, c.label, notes, () =>
      measureClients(CAMERA, c.groups, warmupMs, seconds),
    );
    c.groups.forEach((group, i) => {
      const g = results.map((x) => x.groups[i]);
      rows.push([
        c.label,
        `${group.count} ${group.kind}`,
        `${results.length}/${runs}`,
        fmt(median(g.map((x) => x.streamFps))),
        fmt(median(g.map((x) => mean(x.fps)))),
        fmt(median(g.map((x) => Math.min(...x.fps)))),
        i === 0 ? fmt(median(results.map((x) => x.cpu))) : '″',
      ]);
    });
  }
  printTable(
    `Large sensor: mock 2048x2048 uint16 (12 bit) at 30 fps, noise; clients that only count frames, ` +
      `in separate processes; ${seconds} s after ${warmupMs / 1000} s warm-up, median of ${runs} runs`,
    [
      'case',
      'clients',
      'runs ok',
      'stream fps',
      'fps per client (mean)',
      'min client fps',
      'server CPU % of a core',
    ],
    rows,
  );
  printFooter(before, notes);
}
