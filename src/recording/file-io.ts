import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../index.js';

/**
 * Writes every byte of `buffers` at `position`. One writev when the disk takes it all; a short
 * write (the disk filled up in the middle) is retried for the rest, so the caller gets the
 * system's error (ENOSPC…) instead of a silently truncated page.
 */
export async function writeAll(
  handle: FileHandle,
  buffers: readonly Uint8Array[],
  position: number,
): Promise<number> {
  let rest = buffers.filter((b) => b.byteLength > 0);
  const total = rest.reduce((n, b) => n + b.byteLength, 0);
  let pos = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest as Uint8Array[], pos);
    if (bytesWritten === 0) throw Object.assign(new Error('nothing written'), { code: 'EIO' });
    pos += bytesWritten;
    rest = skipBytes(rest, bytesWritten);
  }
  return total;
}

/** The buffers after their first `n` bytes (views, no copy). */
export function skipBytes(buffers: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = n;
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/** A user-facing message for a failed file operation on `file` (named without its folder). */
export function ioMessage(err: unknown, file: string): string {
  const name = path.basename(file);
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOSPC':
      return `no space left on the disk of ${name}`;
    case 'EDQUOT':
      return `disk quota exceeded while writing ${name}`;
    case 'EEXIST':
      return `${name} exists already`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `no permission to write ${name}`;
    default:
      return `cannot write ${name}: ${errorMessage(err)}`;
  }
}

/** An Error with `ioMessage`'s text, keeping the system's code (e.g. ENOSPC) for callers. */
export function ioError(err: unknown, file: string): Error {
  const e = new Error(ioMessage(err, file));
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code) Object.assign(e, { code });
  return e;
}
