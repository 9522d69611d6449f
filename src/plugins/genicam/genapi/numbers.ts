/** Smallest int64, as the default Min of an Integer without bounds (exact as a double). */
export const INT64_MIN = -(2 ** 63);
/** Largest int64 as a double (2^63; the nearest double to 2^63 - 1). */
export const INT64_MAX = 2 ** 63;

/** Parses a number as GenApi XML writes it: decimal, 0x hex, float, negative, true/false. */
export function parseGenApiNumber(text: string): number | undefined {
  const s = text.trim();
  if (/^[+-]?0x[0-9a-f]+$/i.test(s)) {
    const negative = s.startsWith('-');
    const magnitude = Number(BigInt(s.replace(/^[+-]/, '')));
    return negative ? -magnitude : magnitude;
  }
  if (/^true$/i.test(s)) return 1;
  if (/^false$/i.test(s)) return 0;
  if (s === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return undefined;
  return Number(s);
}

/** Decodes an integer register of up to 8 bytes. */
export function decodeInt(bytes: Uint8Array, littleEndian: boolean, signed: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[littleEndian ? bytes.length - 1 - i : i];
    v = (v << 8n) | BigInt(b);
  }
  return signed ? BigInt.asIntN(bytes.length * 8, v) : v;
}

/** Encodes an integer into a register of `length` bytes (two's complement when negative). */
export function encodeInt(value: bigint, length: number, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(length);
  let v = BigInt.asUintN(length * 8, value);
  for (let i = 0; i < length; i++) {
    out[littleEndian ? i : length - 1 - i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Range of a two's complement or unsigned field of `bits` bits. */
export function intRange(bits: number, signed: boolean): { min: bigint; max: bigint } {
  const b = BigInt(bits);
  return signed
    ? { min: -(1n << (b - 1n)), max: (1n << (b - 1n)) - 1n }
    : { min: 0n, max: (1n << b) - 1n };
}

/** Exact integer conversion of a JS number for register arithmetic. */
export function toBigInt(value: number): bigint {
  return BigInt(Math.trunc(value));
}
