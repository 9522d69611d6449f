import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { centralDirectory, localHeader, planZip, type ZipMember } from './zip-layout.js';

/** A directory as one zip file, ready to send. */
export interface ZipDownload {
  /** Bytes the stream will deliver (the Content-Length). */
  size: number;
  /** Files in the archive. */
  files: number;
  /** The archive; reads the files only as it is consumed; errors if a file changes meanwhile. */
  stream: Readable;
}

/** Options of zipDirectory. */
export interface ZipDirectoryOptions {
  /** Use the ZIP64 records even for a small archive (default false: only when needed). */
  forceZip64?: boolean;
}

/** Files up to this size are read once, in one piece; larger ones twice (CRC first, then data). */
const WHOLE_FILE_BYTES = 16 * 1024 * 1024;
/** Bytes per read of a large file, and per chunk handed to the stream. */
const PIECE_BYTES = 1024 * 1024;

/**
 * Streams a finished directory recording (e.g. an OME-Zarr folder) as one zip file, stored
 * without compression, ZIP64 when sizes or the file count need it. Members are named relative
 * to the directory (`.zgroup`, `0/.zarray`, `0/0/0/0/0`…), so zarr-python's ZipStore opens the
 * archive as the group itself. The size is known before a byte is sent.
 */
export async function zipDirectory(
  dir: string,
  options: ZipDirectoryOptions = {},
): Promise<ZipDownload> {
  const members = await listFiles(dir);
  const plan = planZip(members, options);
  async function* archive(): AsyncGenerator<Buffer> {
    const crcs: number[] = [];
    for (const m of plan.members) {
      const file = path.join(dir, ...m.name.split('/'));
      const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? changed(m.name) : err;
      });
      try {
        if (m.size <= WHOLE_FILE_BYTES) {
          const data = await readExactly(handle, m.size, 0, m.name);
          await expectEnd(handle, m.size, m.name);
          const crc = crc32(data);
          crcs.push(crc);
          yield Buffer.from(localHeader(m, crc));
          for (let p = 0; p < data.length; p += PIECE_BYTES) {
            yield data.subarray(p, p + PIECE_BYTES);
          }
        } else {
          let crc = 0;
          for (let p = 0; p < m.size; p += PIECE_BYTES) {
            crc = crc32(
              await readExactly(handle, Math.min(PIECE_BYTES, m.size - p), p, m.name),
              crc,
            );
          }
          await expectEnd(handle, m.size, m.name);
          crcs.push(crc);
          yield Buffer.from(localHeader(m, crc));
          let again = 0;
          for (let p = 0; p < m.size; p += PIECE_BYTES) {
            const piece = await readExactly(handle, Math.min(PIECE_BYTES, m.size - p), p, m.name);
            again = crc32(piece, again);
            yield piece;
          }
          if (again !== crc) throw changed(m.name);
        }
      } finally {
        await handle.close();
      }
    }
    yield Buffer.from(centralDirectory(plan, crcs, options));
  }
  return {
    size: plan.size,
    files: plan.members.length,
    stream: Readable.from(archive(), { objectMode: false, highWaterMark: PIECE_BYTES }),
  };
}

/** Every regular file under `dir`, as `/`-separated relative names in sorted order. */
async function listFiles(dir: string, prefix = ''): Promise<ZipMember[]> {
  const entries = await readdir(path.join(dir, prefix), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: ZipMember[] = [];
  for (const e of entries) {
    const name = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, name)));
    else if (e.isFile()) {
      const s = await stat(path.join(dir, name));
      out.push({ name, size: s.size, mtime: s.mtime });
    }
  }
  return out;
}

async function readExactly(
  handle: FileHandle,
  length: number,
  position: number,
  name: string,
): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, position + done);
    if (bytesRead === 0) throw changed(name);
    done += bytesRead;
  }
  return out;
}

async function expectEnd(handle: FileHandle, size: number, name: string): Promise<void> {
  const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, size);
  if (bytesRead !== 0) throw changed(name);
}

function changed(name: string): Error {
  return new Error(`${name} changed while the recording was being zipped`);
}
