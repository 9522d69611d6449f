import { readFileSync } from 'node:fs';

/** The exports of min-max.wat (compiled to min-max.wasm by the build). */
interface Kernel {
  memory: WebAssembly.Memory;
  minMaxU16(offset: number, n: number): number;
  minMaxU8(offset: number, n: number): number;
}

const WASM_PAGE = 65536;

/** The compiled kernel, or undefined where it cannot load (no SIMD, file missing): callers fall back to JS. */
const kernel: Kernel | undefined = (() => {
  try {
    const bytes = readFileSync(new URL('./min-max.wasm', import.meta.url));
    return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as Kernel;
  } catch {
    return undefined;
  }
})();

/** True when min/max run in WebAssembly SIMD (tests check both paths agree). */
export const minMaxKernelLoaded = kernel !== undefined;

/**
 * Min and max of the first `n` (≥ 1) values of `a` in WebAssembly SIMD, or undefined when the
 * kernel did not load. The values are copied into the kernel's memory first (a memcpy is an
 * order of magnitude cheaper than a JavaScript compare loop); the memory grows to the largest
 * frame seen and stays.
 */
export function minMaxSimd(
  a: Uint8Array | Uint16Array,
  n: number,
): { min: number; max: number } | undefined {
  if (!kernel) return undefined;
  const bytes = n * a.BYTES_PER_ELEMENT;
  const memory = kernel.memory;
  if (memory.buffer.byteLength < bytes) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / WASM_PAGE));
  }
  const packed =
    a instanceof Uint16Array
      ? (new Uint16Array(memory.buffer, 0, n).set(a.subarray(0, n)), kernel.minMaxU16(0, n))
      : (new Uint8Array(memory.buffer, 0, n).set(a.subarray(0, n)), kernel.minMaxU8(0, n));
  return { min: packed & 0xffff, max: packed >>> 16 };
}
