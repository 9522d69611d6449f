import type { PixelData } from '../../index.js';
import type { MockDtype, MockPattern } from './options.js';

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

/** Values of the noise table beyond the longest window, so a window can be aligned to a 32-bit word. */
const TABLE_SLACK = 4;

/**
 * Everything that depends on exposure, gain and noise, built once per setting (not per frame):
 * counts = base + noise, where base = round(dark + light x scale) per value and noise =
 * round(gaussian x sigma) from a table read at a random window per row.
 */
interface SensorModel {
  exposureMs: number;
  gain: number;
  noisePercent: number;
  scale: number;
  /** dark (+ 0.5 for integer dtypes, so that flooring rounds to nearest). */
  offset: number;
  /** Counts without noise: Int32Array (integer dtypes) or Float32Array (float32). */
  base: Int32Array | Float32Array;
  /** `base` of the background alone: copied back where the last frame's spots were. */
  bgBase: Int32Array | Float32Array;
  /** `packedBase` of the background alone. */
  bgPacked: Uint8Array | Uint16Array | undefined;
  /** Noise in counts, the same kind of array as `base`. */
  noise: Int32Array | Float32Array;
  noiseMin: number;
  noiseMax: number;
  /** Integer dtypes: base + noiseMin, clamped to the lane (what the packed fast path adds). */
  packedBase: Packed | undefined;
  /** Integer dtypes: noise - noiseMin, clamped to the lane. */
  packedNoise: Packed | undefined;
  /** Flat patterns: clamp(base + noise) ready to copy, one table for every value. */
  flat: PixelData | undefined;
  /** Per chunk of CHUNK values: smallest base of the background (spots only add light, so it bounds every frame). */
  chunkMin: Float64Array;
  /** Per chunk: largest base of the background. */
  bgChunkMax: Float64Array;
  /** Per chunk: largest base in this frame (background raised by the spots). */
  chunkMax: Float64Array;
}

/** log2 of the values per chunk: the unit that is added either with clamping or without. */
const CHUNK_BITS = 8;
const CHUNK = 1 << CHUNK_BITS;

/**
 * Draws the mock camera's images: a light field (gradient and moving Gaussian spots) turned into
 * counts by exposure and gain, plus read noise, clipped at full scale as a real sensor saturates.
 *
 * A frame must cost about a memory copy (the camera must never be a benchmark's bottleneck), so
 * the counts without noise are kept between frames and only the spots' boxes are redrawn; a row
 * then adds a random window of a precomputed noise table, two uint16 or four uint8 values per
 * 32-bit add where no value of the row can clip, and with clamping where one can. The flat
 * `noise` pattern copies windows of a table that is already clipped.
 */
export class Scene {
  private readonly fullScale: number;
  private readonly background: Float32Array;
  private readonly light: Float32Array;
  /** Boxes the spots lit in the last frame, [x0, y0, x1, y1] inclusive: only those need redrawing. */
  private readonly litBoxes: Int32Array;
  private litCount = 0;
  private readonly spots: Spot[] = [];
  /** Standard normal samples, scaled into each model's noise table. */
  private readonly gaussian: Float32Array;
  private readonly random: () => number;
  private model: SensorModel | undefined;

  constructor(readonly settings: SceneSettings) {
    const { width, height, channels, bitDepth, pattern, seed } = settings;
    this.fullScale = 2 ** bitDepth - 1;
    this.random = seededRandom(seed);
    this.background = new Float32Array(width * height * channels);
    if (pattern === 'noise') this.background.fill(NOISE_PATTERN_FLUX);
    else this.fillGradient();
    this.light = Float32Array.from(this.background);
    if (pattern === 'features') this.makeSpots();
    this.litBoxes = new Int32Array(4 * this.spots.length);
    const rowLength = width * channels;
    this.gaussian = gaussianTable(Math.max(1 << 16, 4 * rowLength) + TABLE_SLACK, this.random);
  }

  /** Renders the frame at `seconds` since acquisition start into a new array (which the caller keeps). */
  render(seconds: number, exposure: Exposure): PixelData {
    const { width, height, channels, dtype } = this.settings;
    let model = this.model;
    if (
      model === undefined ||
      model.exposureMs !== exposure.exposureMs ||
      model.gain !== exposure.gain ||
      model.noisePercent !== exposure.noisePercent
    ) {
      model = this.model = this.buildModel(exposure);
    } else {
      this.resetLitBoxes(model);
    }
    for (const spot of this.spots) this.addSpot(spot, seconds);
    for (let b = 0; b < this.litCount; b++) this.updateBox(model, b);

    const rowLength = width * channels;
    const out = allocate(dtype, rowLength * height);
    const span = this.gaussian.length - TABLE_SLACK - rowLength;
    // Lanes of one 32-bit word: a noise window must start at the same lane as the row it is added to.
    const lanes = dtype === 'uint8' ? 4 : dtype === 'uint16' ? 2 : 1;
    const fs = this.fullScale;
    const outPacked = model.packedBase ? packed(out as Uint8Array | Uint16Array) : undefined;
    const { chunkMin, chunkMax, noiseMin, noiseMax } = model;
    for (let y = 0, start = 0; y < height; y++, start += rowLength) {
      // A random window of the table per row: fresh-looking noise without a generator call per value.
      const window = Math.floor(this.random() * span);
      if (model.flat) {
        out.set(model.flat.subarray(window, window + rowLength), start);
        continue;
      }
      // Aligned to the row's lane, so that 32-bit words of the row and of the table line up.
      const shift = window - (window % lanes) + (start % lanes) - start;
      const end = start + rowLength;
      let i = start;
      while (i < end) {
        // The longest run of chunks that all can clip, or all cannot.
        let c = i >> CHUNK_BITS;
        const fast = chunkMin[c] + noiseMin >= 0 && chunkMax[c] + noiseMax <= fs;
        let j = Math.min(end, (c + 1) << CHUNK_BITS);
        while (j < end) {
          c = j >> CHUNK_BITS;
          if (chunkMin[c] + noiseMin >= 0 && chunkMax[c] + noiseMax <= fs) {
            if (!fast) break;
          } else if (fast) break;
          j = Math.min(end, j + CHUNK);
        }
        if (fast && outPacked) {
          addPackedRow(
            outPacked,
            model.packedBase as Packed,
            model.packedNoise as Packed,
            i,
            j - i,
            shift,
            lanes,
          );
        } else if (dtype === 'float32') {
          const o = out as Float32Array;
          const b = model.base as Float32Array;
          const n = model.noise as Float32Array;
          if (fast) addRowFloat(o, b, n, i, j - i, shift);
          else clampRowFloat(o, b, n, i, j - i, shift, fs);
        } else {
          const o = out as Uint8Array | Uint16Array;
          clampRowInt(o, model.base as Int32Array, model.noise as Int32Array, i, j - i, shift, fs);
        }
        i = j;
      }
    }
    return out;
  }

  /** Builds the counts of the background and the noise tables for a new exposure, gain or noise. */
  private buildModel(exposure: Exposure): SensorModel {
    const { width, height, channels, dtype, pattern } = this.settings;
    const fs = this.fullScale;
    const scale = exposure.exposureMs * exposure.gain * SENSITIVITY_PER_MS * fs;
    const isFloat = dtype === 'float32';
    // Integer outputs round to nearest; float32 keeps the fraction, as a float camera would.
    const offset = DARK_LEVEL * fs + (isFloat ? 0 : 0.5);
    const noisePercent =
      pattern === 'noise'
        ? Math.max(exposure.noisePercent, NOISE_PATTERN_MIN_PERCENT)
        : exposure.noisePercent;
    const sigma = (noisePercent / 100) * fs * exposure.gain;

    const g = this.gaussian;
    const noise = isFloat ? new Float32Array(g.length) : new Int32Array(g.length);
    let noiseMin = Infinity;
    let noiseMax = -Infinity;
    for (let j = 0; j < g.length; j++) {
      const v = isFloat ? g[j] * sigma : Math.round(g[j] * sigma);
      noise[j] = v;
      if (noise[j] < noiseMin) noiseMin = noise[j];
      if (noise[j] > noiseMax) noiseMax = noise[j];
    }

    // A new model starts from the background: the spots are drawn again right after.
    this.light.set(this.background);
    this.litCount = 0;
    const rowLength = width * channels;
    const base = isFloat
      ? new Float32Array(rowLength * height)
      : new Int32Array(rowLength * height);
    const chunks = Math.ceil(base.length / CHUNK);
    const chunkMin = new Float64Array(chunks).fill(Infinity);
    const bgChunkMax = new Float64Array(chunks).fill(-Infinity);
    for (let i = 0; i < base.length; i++) {
      const v = offset + this.background[i] * scale;
      base[i] = isFloat ? v : toCount(v);
      const c = i >> CHUNK_BITS;
      if (base[i] < chunkMin[c]) chunkMin[c] = base[i];
      if (base[i] > bgChunkMax[c]) bgChunkMax[c] = base[i];
    }

    const model: SensorModel = {
      exposureMs: exposure.exposureMs,
      gain: exposure.gain,
      noisePercent: exposure.noisePercent,
      scale,
      offset,
      base,
      bgBase: base.slice(),
      bgPacked: undefined,
      noise,
      noiseMin,
      noiseMax,
      packedBase: undefined,
      packedNoise: undefined,
      flat: undefined,
      chunkMin,
      bgChunkMax,
      chunkMax: Float64Array.from(bgChunkMax),
    };
    if (pattern === 'noise') {
      // Every value has the same base: a row is a copy of an already clipped table.
      const flat = allocate(dtype, noise.length);
      const b = base[0];
      for (let j = 0; j < noise.length; j++) flat[j] = clamp(b + noise[j], fs);
      model.flat = flat;
    } else if (!isFloat) {
      const lane = dtype === 'uint8' ? 255 : 65535;
      const packedBase = allocate(dtype, base.length) as Uint8Array | Uint16Array;
      for (let i = 0; i < base.length; i++) packedBase[i] = clamp(base[i] + noiseMin, lane);
      const packedNoise = allocate(dtype, noise.length) as Uint8Array | Uint16Array;
      for (let j = 0; j < noise.length; j++) packedNoise[j] = clamp(noise[j] - noiseMin, lane);
      model.packedBase = packed(packedBase);
      model.bgPacked = packedBase.slice();
      model.packedNoise = packed(packedNoise);
    }
    return model;
  }

  /** Puts the background back where the last frame's spots were. */
  private resetLitBoxes(model: SensorModel): void {
    const { width, channels } = this.settings;
    const boxes = this.litBoxes;
    const { base, bgBase, packedBase, bgPacked, chunkMax, bgChunkMax } = model;
    for (let b = 0; b < this.litCount; b++) {
      const x0 = boxes[4 * b];
      const x1 = boxes[4 * b + 2];
      for (let y = boxes[4 * b + 1]; y <= boxes[4 * b + 3]; y++) {
        const a = (y * width + x0) * channels;
        const e = (y * width + x1 + 1) * channels;
        this.light.set(this.background.subarray(a, e), a);
        base.set(bgBase.subarray(a, e), a);
        if (packedBase && bgPacked) packedBase.values.set(bgPacked.subarray(a, e), a);
        for (let c = a >> CHUNK_BITS; c <= (e - 1) >> CHUNK_BITS; c++) chunkMax[c] = bgChunkMax[c];
      }
    }
    this.litCount = 0;
  }

  /** Recomputes the counts of lit box `b` from the light field (and raises the chunks' maxima). */
  private updateBox(model: SensorModel, b: number): void {
    const { width, channels, dtype } = this.settings;
    const boxes = this.litBoxes;
    const x0 = boxes[4 * b];
    const x1 = boxes[4 * b + 2];
    const { base, packedBase, offset, scale, noiseMin, chunkMax } = model;
    const lane = dtype === 'uint8' ? 255 : 65535;
    for (let y = boxes[4 * b + 1]; y <= boxes[4 * b + 3]; y++) {
      const a = (y * width + x0) * channels;
      const e = (y * width + x1 + 1) * channels;
      if (base instanceof Float32Array)
        boxRowFloat(base, this.light, a, e, offset, scale, chunkMax);
      else {
        const p = (packedBase as Packed).values;
        boxRowInt(base, p, this.light, a, e, offset, scale, noiseMin, lane, chunkMax);
      }
    }
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
    const b = 4 * this.litCount++;
    this.litBoxes[b] = x0;
    this.litBoxes[b + 1] = y0;
    this.litBoxes[b + 2] = x1;
    this.litBoxes[b + 3] = y1;
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

/** Largest base kept in an Int32Array: far beyond any full scale, and base + noise cannot overflow. */
const MAX_BASE = 2 ** 30;

/** Floors a non-negative count, capped so a long exposure at high gain cannot wrap the Int32Array. */
function toCount(v: number): number {
  return v < MAX_BASE ? Math.floor(v) : MAX_BASE;
}

function clamp(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : v;
}

function boxRowInt(
  base: Int32Array,
  packedBase: Uint8Array | Uint16Array,
  light: Float32Array,
  start: number,
  end: number,
  offset: number,
  scale: number,
  noiseMin: number,
  lane: number,
  chunkMax: Float64Array,
): void {
  for (let i = start; i < end; i++) {
    const v = toCount(offset + light[i] * scale);
    base[i] = v;
    packedBase[i] = clamp(v + noiseMin, lane);
    if (v > chunkMax[i >> CHUNK_BITS]) chunkMax[i >> CHUNK_BITS] = v;
  }
}

function boxRowFloat(
  base: Float32Array,
  light: Float32Array,
  start: number,
  end: number,
  offset: number,
  scale: number,
  chunkMax: Float64Array,
): void {
  for (let i = start; i < end; i++) {
    base[i] = offset + light[i] * scale;
    if (base[i] > chunkMax[i >> CHUNK_BITS]) chunkMax[i >> CHUNK_BITS] = base[i];
  }
}

// The row loops are small functions of their own so that V8 optimizes each hot loop on its own.

/**
 * out = base + noise for a row where no value can leave [0, full scale]: the packed arrays hold
 * base + noiseMin and noise - noiseMin, both >= 0 and with a sum <= full scale, so adding whole
 * 32-bit words never carries from one lane into the next. `shift` is a multiple of `lanes`.
 */
function addPackedRow(
  out: Packed,
  base: Packed,
  noise: Packed,
  start: number,
  length: number,
  shift: number,
  lanes: number,
): void {
  const end = start + length;
  // Values before the first and after the last whole word of the row go one by one.
  let i = start;
  const head = Math.min(end, start + ((lanes - (start % lanes)) % lanes));
  for (; i < head; i++) out.values[i] = base.values[i] + noise.values[shift + i];
  const words = Math.floor((end - i) / lanes);
  if (words > 0) addWords(out.words, base.words, noise.words, i / lanes, words, shift / lanes);
  i += words * lanes;
  for (; i < end; i++) out.values[i] = base.values[i] + noise.values[shift + i];
}

function addWords(
  out: Uint32Array,
  base: Uint32Array,
  noise: Uint32Array,
  start: number,
  count: number,
  shift: number,
): void {
  for (let k = start, end = start + count; k < end; k++) out[k] = base[k] + noise[shift + k];
}

/** An integer array and a 32-bit view of its whole words (both start at byte 0 of the buffer). */
interface Packed {
  values: Uint8Array | Uint16Array;
  words: Uint32Array;
}

function packed(values: Uint8Array | Uint16Array): Packed {
  return { values, words: new Uint32Array(values.buffer, 0, values.byteLength >>> 2) };
}

function clampRowInt(
  out: Uint8Array | Uint16Array,
  base: Int32Array,
  noise: Int32Array,
  start: number,
  length: number,
  shift: number,
  fullScale: number,
): void {
  for (let i = start, end = start + length; i < end; i++) {
    const v = base[i] + noise[shift + i];
    out[i] = v < 0 ? 0 : v > fullScale ? fullScale : v;
  }
}

function addRowFloat(
  out: Float32Array,
  base: Float32Array,
  noise: Float32Array,
  start: number,
  length: number,
  shift: number,
): void {
  for (let i = start, end = start + length; i < end; i++) out[i] = base[i] + noise[shift + i];
}

function clampRowFloat(
  out: Float32Array,
  base: Float32Array,
  noise: Float32Array,
  start: number,
  length: number,
  shift: number,
  fullScale: number,
): void {
  for (let i = start, end = start + length; i < end; i++) {
    const v = base[i] + noise[shift + i];
    out[i] = v < 0 ? 0 : v > fullScale ? fullScale : v;
  }
}

const BYTES: Record<MockDtype, number> = { uint8: 1, uint16: 2, float32: 4 };

/**
 * A new array whose memory is not zeroed first: every value is written before anyone reads it.
 * Frames are not recycled, because a consumer may keep one for as long as it likes (a slow
 * encoder, a snapshot, a test): a frame owns its pixels.
 */
function allocate(dtype: MockDtype, length: number): PixelData {
  const buffer = Buffer.allocUnsafeSlow(length * BYTES[dtype]).buffer;
  if (dtype === 'uint8') return new Uint8Array(buffer, 0, length);
  if (dtype === 'uint16') return new Uint16Array(buffer, 0, length);
  return new Float32Array(buffer, 0, length);
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
