/** The mock scene as it was before issue 14 (a verbatim copy): the reference the faster scene is tested against. */
import type { PixelData } from '../../../src/core/frame.js';
import type { MockDtype, MockPattern } from '../../../src/plugins/mock/options.js';

/** What the scene needs to draw one frame; exposure, gain and noise may change between frames. */
export interface SceneSettings {
  /** Image width in pixels. */
  width: number;
  /** Image height in pixels. */
  height: number;
  /** 1 = gray, 3 = RGB. */
  channels: 1 | 3;
  /** Element type of the output. */
  dtype: MockDtype;
  /** Significant bits: full scale is 2^bitDepth - 1. */
  bitDepth: number;
  /** What the image shows. */
  pattern: MockPattern;
  /** Seed of the noise generator. */
  seed: number;
}

/** How the sensor turns light into counts; read per frame. */
export interface Exposure {
  /** Exposure time in ms. */
  exposureMs: number;
  /** Analog gain (multiplies signal and noise). */
  gain: number;
  /** Read noise in percent of full scale at gain 1. */
  noisePercent: number;
}

/** Fraction of full scale per ms of exposure at gain 1 for a flux of 1: 10 ms puts the brightest spot at 80 %. */
export const SENSITIVITY_PER_MS = 0.08;
/** Dark level (offset) as a fraction of full scale. */
export const DARK_LEVEL = 0.01;
/** Flux of the flat field the `noise` pattern shows. */
const NOISE_PATTERN_FLUX = 0.5;
/** Smallest read noise of the `noise` pattern, in percent of full scale. */
const NOISE_PATTERN_MIN_PERCENT = 15;
const SPOT_COUNT = 8;
const SPOT_PEAK_FLUX = 0.5;
/** RGB weights of the spots, so that colour images show colour. */
const SPOT_COLOURS: readonly (readonly [number, number, number])[] = [
  [1, 0.35, 0.2],
  [0.25, 1, 0.35],
  [0.3, 0.45, 1],
  [1, 0.9, 0.3],
];

/** A small, fast, seeded generator (mulberry32): reproducible images without a dependency. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Spot {
  /** Kernel side length (odd). */
  size: number;
  /** Gaussian profile, size x size, peak 1. */
  kernel: Float32Array;
  /** Lissajous frequencies (cycles per second) and phases of the path. */
  fx: number;
  fy: number;
  px: number;
  py: number;
  colour: readonly [number, number, number];
}

/**
 * Draws the mock camera's images: a light field (gradient and moving Gaussian spots) turned into
 * counts by exposure and gain, plus read noise, clipped at full scale as a real sensor saturates.
 * Tables are built once so that a frame costs two passes over the pixels.
 */
export class Scene {
  private readonly fullScale: number;
  private readonly background: Float32Array;
  private readonly light: Float32Array;
  /** Boxes the spots lit in the last frame, [x0, y0, x1, y1] inclusive: only those need resetting. */
  private litBoxes: [number, number, number, number][] = [];
  private readonly spots: Spot[] = [];
  private readonly noiseTable: Float32Array;
  private readonly random: () => number;

  constructor(readonly settings: SceneSettings) {
    const { width, height, channels, bitDepth, pattern, seed } = settings;
    this.fullScale = 2 ** bitDepth - 1;
    this.random = seededRandom(seed);
    this.background = new Float32Array(width * height * channels);
    if (pattern === 'noise') this.background.fill(NOISE_PATTERN_FLUX);
    else this.fillGradient();
    this.light = Float32Array.from(this.background);
    if (pattern === 'features') this.makeSpots();
    const rowLength = width * channels;
    this.noiseTable = gaussianTable(Math.max(1 << 16, 4 * rowLength), this.random);
  }

  /** Renders the frame at `seconds` since acquisition start into a new array. */
  render(seconds: number, exposure: Exposure): PixelData {
    const { width, height, channels, dtype, pattern } = this.settings;
    const light = this.light;
    this.resetLitBoxes();
    for (const spot of this.spots) this.addSpot(spot, seconds);

    const fs = this.fullScale;
    const scale = exposure.exposureMs * exposure.gain * SENSITIVITY_PER_MS * fs;
    const dark = DARK_LEVEL * fs;
    const noisePercent =
      pattern === 'noise'
        ? Math.max(exposure.noisePercent, NOISE_PATTERN_MIN_PERCENT)
        : exposure.noisePercent;
    const sigma = (noisePercent / 100) * fs * exposure.gain;
    // Integer outputs round to nearest; float32 keeps the fraction, as a float camera would.
    const offset0 = dark + (dtype === 'float32' ? 0 : 0.5);
    const out = allocate(dtype, light.length);
    const rowLength = width * channels;
    const span = this.noiseTable.length - rowLength;
    for (let y = 0; y < height; y++) {
      // A random window of the table per row: fresh-looking noise without a generator call per pixel.
      const noiseStart = Math.floor(this.random() * span);
      countsRow(out, light, y * rowLength, rowLength, this.noiseTable, noiseStart, {
        offset: offset0,
        scale,
        sigma,
        fullScale: fs,
      });
    }
    return out;
  }

  private resetLitBoxes(): void {
    const { width, channels } = this.settings;
    for (const [x0, y0, x1, y1] of this.litBoxes) {
      for (let y = y0; y <= y1; y++) {
        const a = (y * width + x0) * channels;
        const b = (y * width + x1 + 1) * channels;
        this.light.set(this.background.subarray(a, b), a);
      }
    }
    this.litBoxes = [];
  }

  private fillGradient(): void {
    const { width, height, channels } = this.settings;
    const bg = this.background;
    for (let y = 0; y < height; y++) {
      const fy = height > 1 ? y / (height - 1) : 0;
      for (let x = 0; x < width; x++) {
        const fx = width > 1 ? x / (width - 1) : 0;
        const i = (y * width + x) * channels;
        // A diagonal ramp from 0.1 to 0.5 of the flux that saturates at 10 ms: visible structure everywhere.
        const g = 0.1 + 0.2 * fx + 0.2 * fy;
        if (channels === 1) bg[i] = g;
        else {
          bg[i] = 0.1 + 0.4 * fx;
          bg[i + 1] = g;
          bg[i + 2] = 0.1 + 0.4 * fy;
        }
      }
    }
  }

  private makeSpots(): void {
    const { width, height } = this.settings;
    const base = Math.max(1.5, Math.min(width, height) / 80);
    for (let k = 0; k < SPOT_COUNT; k++) {
      const sigma = base * (1 + 0.5 * (k % 3));
      // 2.5 sigma keeps 96 % of the light: the cut edge is invisible under noise.
      const radius = Math.ceil(2.5 * sigma);
      const size = 2 * radius + 1;
      const kernel = new Float32Array(size * size);
      for (let dy = -radius; dy <= radius; dy++) {
        for (let dx = -radius; dx <= radius; dx++) {
          kernel[(dy + radius) * size + dx + radius] = Math.exp(
            -(dx * dx + dy * dy) / (2 * sigma * sigma),
          );
        }
      }
      this.spots.push({
        size,
        kernel,
        // Periods of 4 to 14 s: visible motion at any frame rate, and never the same picture twice.
        fx: 1 / (4 + 10 * this.random()),
        fy: 1 / (4 + 10 * this.random()),
        px: 2 * Math.PI * this.random(),
        py: 2 * Math.PI * this.random(),
        colour: SPOT_COLOURS[k % SPOT_COLOURS.length],
      });
    }
  }

  private addSpot(spot: Spot, seconds: number): void {
    const { width, height, channels } = this.settings;
    const cx = Math.round(((Math.sin(2 * Math.PI * spot.fx * seconds + spot.px) + 1) / 2) * width);
    const cy = Math.round(((Math.sin(2 * Math.PI * spot.fy * seconds + spot.py) + 1) / 2) * height);
    const r = (spot.size - 1) / 2;
    const x0 = Math.max(0, cx - r);
    const x1 = Math.min(width - 1, cx + r);
    const y0 = Math.max(0, cy - r);
    const y1 = Math.min(height - 1, cy + r);
    if (x0 > x1 || y0 > y1) return;
    this.litBoxes.push([x0, y0, x1, y1]);
    const light = this.light;
    for (let y = y0; y <= y1; y++) {
      const krow = (y - cy + r) * spot.size - cx + r;
      for (let x = x0; x <= x1; x++) {
        const k = spot.kernel[krow + x] * SPOT_PEAK_FLUX;
        const i = (y * width + x) * channels;
        if (channels === 1) light[i] += k;
        else {
          light[i] += k * spot.colour[0];
          light[i + 1] += k * spot.colour[1];
          light[i + 2] += k * spot.colour[2];
        }
      }
    }
  }
}

/** How light becomes counts: counts = offset + light x scale + noise x sigma, clipped to [0, fullScale]. */
interface CountsModel {
  offset: number;
  scale: number;
  sigma: number;
  fullScale: number;
}

// A small function of its own so that V8 optimizes the hot loop on its own.
function countsRow(
  out: PixelData,
  light: Float32Array,
  start: number,
  length: number,
  noise: Float32Array,
  noiseStart: number,
  model: CountsModel,
): void {
  const { offset, scale, sigma, fullScale } = model;
  const shift = noiseStart - start;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const v = offset + light[i] * scale + noise[shift + i] * sigma;
    out[i] = v < 0 ? 0 : v > fullScale ? fullScale : v;
  }
}

function allocate(dtype: MockDtype, length: number): PixelData {
  if (dtype === 'uint8') return new Uint8Array(length);
  if (dtype === 'uint16') return new Uint16Array(length);
  return new Float32Array(length);
}

/** Standard normal samples (Box-Muller). */
function gaussianTable(length: number, random: () => number): Float32Array {
  const table = new Float32Array(length);
  for (let i = 0; i < length; i += 2) {
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    table[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < length) table[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return table;
}
