import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Whether anything (file, directory, link) exists at `where`. */
export async function pathExists(where: string): Promise<boolean> {
  try {
    await lstat(where);
    return true;
  } catch {
    return false;
  }
}

/** Bytes of a file, or of every file below a directory (links are not followed). */
export async function sizeOnDisk(where: string): Promise<number> {
  const stats = await lstat(where);
  if (!stats.isDirectory()) return stats.size;
  let total = 0;
  for (const entry of await readdir(where, { withFileTypes: true })) {
    total += await sizeOnDisk(path.join(where, entry.name));
  }
  return total;
}
