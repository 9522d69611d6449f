// Runs inside the vivid VM (bench/v4l2.ts starts it): capture fps and CPU of liveview's V4L2
// reader against v4l2-ctl's own mmap streaming, same device, same format, same VM.
import { spawnSync } from 'node:child_process';
import { V4l2Device } from '../src/plugins/v4l2/device.js';
import { convertFrame } from '../src/plugins/v4l2/convert.js';
import { fmt, printTable } from './stats.js';

const WIDTH = 1280;
const HEIGHT = 720;
const FRAMES = Number(process.env.BENCH_FRAMES ?? 90);

function v4l2ctl(fps: number): { fps: number; cpuPercent: number } {
  const cmd =
    `v4l2-ctl -d /dev/video0 --set-fmt-video=width=${WIDTH},height=${HEIGHT},pixelformat=YUYV ` +
    `--set-parm=${fps} --stream-mmap --stream-count=${FRAMES} --stream-to=/dev/null`;
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; time ${cmd} 2>/dev/null`], {
    encoding: 'utf8',
  });
  const elapsed = (performance.now() - t0) / 1000;
  const [user, sys] = r.stderr.trim().split(/\s+/).slice(-2).map(Number);
  return { fps: FRAMES / elapsed, cpuPercent: ((user + sys) / elapsed) * 100 };
}

async function liveview(
  fps: number,
  convert: boolean,
): Promise<{ fps: number; cpuPercent: number }> {
  const d = new V4l2Device('/dev/video0');
  d.open();
  const format = d.setFormat('YUYV', WIDTH, HEIGHT);
  d.setFrameRate(fps);
  d.startStreaming(4);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (n < FRAMES) {
    const f = await d.next(2000);
    if (!f) continue;
    if (convert)
      convertFrame(
        'YUYV',
        f.bytes,
        { width: WIDTH, height: HEIGHT, bytesPerLine: format.bytesPerLine },
        'rgb',
      );
    n++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  d.close();
  return { fps: n / elapsed, cpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100 };
}

const rows: string[][] = [];
for (const fps of [30, 60]) {
  const ref = v4l2ctl(fps);
  const raw = await liveview(fps, false);
  const rgb = await liveview(fps, true);
  rows.push([
    String(fps),
    `${fmt(ref.fps)} / ${fmt(ref.cpuPercent)} %`,
    `${fmt(raw.fps)} / ${fmt(raw.cpuPercent)} %`,
    `${fmt(rgb.fps)} / ${fmt(rgb.cpuPercent)} %`,
    fmt(raw.fps / ref.fps, 2),
  ]);
}
printTable(
  `V4L2 capture, vivid ${WIDTH}x${HEIGHT} YUYV, ${FRAMES} frames, inside the QEMU VM (emulated CPU: compare ratios, not absolutes)`,
  [
    'asked fps',
    'v4l2-ctl fps / CPU',
    'liveview capture fps / CPU',
    'liveview + YUYV→RGB fps / CPU',
    'fps ratio liveview/v4l2-ctl',
  ],
  rows,
);
