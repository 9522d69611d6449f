/**
 * Per-frame cost of the display path's pure stages, one call at a time on one thread:
 * the mock camera's render (per pattern and size), normalize (per mode), subsample and I420.
 *
 * `node dist/bench/mock-render.js [reps]` (default 200 repetitions per row, after a warm-up);
 * `BENCH_ONLY=mock|normalize|convert` picks one table. Figures are min and median in ms,
 * with the load average printed alongside, since other processes share the cores.
 */
import os from 'node:os';
import type { Frame } from '../src/core/frame.js';
import { normalize, type NormalizeOptions } from '../src/core/normalize.js';
import { subsample } from '../src/core/subsample.js';
import { Scene, type SceneSettings } from '../src/plugins/mock/index.js';
import type { MockPattern } from '../src/plugins/mock/options.js';
import { toI420 } from '../src/protocols/webrtc/i420.js';
import { fmt, median, printTable } from './stats.js';

const EXPOSURE = { exposureMs: 10, gain: 1, noisePercent: 2 };

/** Runs `fn` `reps` times after a warm-up and returns [min, median] in ms. */
function time(reps: number, fn: (i: number) => void): [number, number] {
  for (let i = 0; i < Math.min(20, reps); i++) fn(i);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn(i);
    times.push(performance.now() - t);
  }
  return [Math.min(...times), median(times)];
}

function load(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

interface Case {
  label: string;
  settings: Omit<SceneSettings, 'pattern' | 'seed'>;
}

const SIZES: Case[] = [
  {
    label: '1280x720 uint8 gray',
    settings: { width: 1280, height: 720, channels: 1, dtype: 'uint8', bitDepth: 8 },
  },
  {
    label: '1280x720 uint8 RGB',
    settings: { width: 1280, height: 720, channels: 3, dtype: 'uint8', bitDepth: 8 },
  },
  {
    label: '1280x720 uint16',
    settings: { width: 1280, height: 720, channels: 1, dtype: 'uint16', bitDepth: 12 },
  },
  {
    label: '1280x720 float32',
    settings: { width: 1280, height: 720, channels: 1, dtype: 'float32', bitDepth: 16 },
  },
  {
    label: '2048x2048 uint16',
    settings: { width: 2048, height: 2048, channels: 1, dtype: 'uint16', bitDepth: 12 },
  },
];
const PATTERNS: MockPattern[] = ['features', 'gradient', 'noise'];

/** Scene.render per size and pattern (the mock camera's whole frame, pixel code excluded). */
export function benchMockRender(reps: number): void {
  const rows: string[][] = [];
  for (const { label, settings } of SIZES) {
    for (const pattern of PATTERNS) {
      const scene = new Scene({ ...settings, pattern, seed: 1 });
      const [min, med] = time(reps, (i) => scene.render(i / 30, EXPOSURE));
      rows.push([label, pattern, fmt(min, 2), fmt(med, 2)]);
    }
  }
  printTable(
    `mock render, ${reps} frames each (load ${load()})`,
    ['frame', 'pattern', 'min ms', 'median ms'],
    rows,
  );
}

function frameOf(settings: Case['settings'], pattern: MockPattern): Frame {
  const data = new Scene({ ...settings, pattern, seed: 1 }).render(0.5, EXPOSURE);
  return {
    data,
    width: settings.width,
    height: settings.height,
    channels: settings.channels,
    dtype: settings.dtype,
    bitDepth: settings.bitDepth,
    pixelFormat: 'bench',
    frameNumber: 0,
    timestamp: 0n,
    detector: 'bench',
    metadata: {},
  };
}

const MODES: [string, NormalizeOptions][] = [
  ['minmax', { mode: 'minmax', lowPercent: 0.1, highPercent: 99.9 }],
  ['percentile', { mode: 'percentile', lowPercent: 0.1, highPercent: 99.9 }],
  ['fixed', { mode: 'fixed', min: 100, max: 3000, lowPercent: 0.1, highPercent: 99.9 }],
  ['shift', { mode: 'shift', lowPercent: 0.1, highPercent: 99.9 }],
];

/** normalize() per mode, with a fresh output array and with a reused one. */
export function benchNormalize(reps: number): void {
  const rows: string[][] = [];
  for (const { label, settings } of SIZES.filter((s) => s.settings.dtype !== 'uint8')) {
    const frame = frameOf(settings, 'features');
    const out = new Uint8Array(frame.data.length);
    for (const [name, o] of MODES) {
      const [min, med] = time(reps, () => normalize(frame, o));
      const [minOut, medOut] = time(reps, () => normalize(frame, o, out));
      rows.push([label, name, fmt(min, 2), fmt(med, 2), fmt(minOut, 2), fmt(medOut, 2)]);
    }
  }
  printTable(
    `normalize, ${reps} frames each (load ${load()})`,
    ['frame', 'mode', 'min ms', 'median ms', 'min ms (out)', 'median ms (out)'],
    rows,
  );
}

/** subsample (factor 2) and gray/RGB -> I420, the other per-frame stages of the display path. */
export function benchConvert(reps: number): void {
  const rows: string[][] = [];
  for (const { label, settings } of SIZES.filter((s) => s.settings.dtype === 'uint16')) {
    const frame = frameOf(settings, 'features');
    const [min, med] = time(reps, () => subsample(frame, { factor: 2, maxWidth: 0, maxHeight: 0 }));
    rows.push([label, 'subsample x2', fmt(min, 2), fmt(med, 2)]);
    const display = normalize(frame, MODES[0][1]);
    const [gMin, gMed] = time(reps, () => toI420(display));
    rows.push([label, 'gray -> I420', fmt(gMin, 2), fmt(gMed, 2)]);
    const picture = toI420(display);
    const [oMin, oMed] = time(reps, () => toI420(display, picture));
    rows.push([label, 'gray -> I420 (out)', fmt(oMin, 2), fmt(oMed, 2)]);
  }
  const rgb = normalize(frameOf(SIZES[1].settings, 'features'), MODES[0][1]);
  const [rMin, rMed] = time(reps, () => toI420(rgb));
  rows.push([SIZES[1].label, 'RGB -> I420', fmt(rMin, 2), fmt(rMed, 2)]);
  printTable(
    `subsample and I420, ${reps} frames each (load ${load()})`,
    ['frame', 'stage', 'min ms', 'median ms'],
    rows,
  );
}

if (process.argv[1]?.endsWith('mock-render.js')) {
  const reps = Number(process.argv[2] ?? 200);
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'mock') benchMockRender(reps);
  if (!only || only === 'normalize') benchNormalize(reps);
  if (!only || only === 'convert') benchConvert(reps);
}
