import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { zipDirectory } from '../recording/zip-directory.js';
import type { RecordingManager } from '../core/recording-manager.js';
import type { RecordingDownload } from './recording-routes.js';

/** Sends a recording's file (Range requests, a Content-Disposition that is safe for any name) or its directory as one zip. */
export function recordingDownload(recordings: RecordingManager): RecordingDownload {
  return async (res: Response, id: string) => {
    const file = await recordings.file(id);
    if (file.directory) {
      const zip = await zipDirectory(file.path);
      res.attachment(file.downloadName);
      res.set({ 'Content-Type': 'application/zip', 'Content-Length': String(zip.size) });
      // Headers are out once the first byte is: a failure later can only cut the download short.
      await pipeline(zip.stream, res);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      // Relative to the folder: send refuses anything that would climb out of it.
      res.download(
        file.downloadName,
        file.downloadName,
        { root: recordings.dir, headers: { 'Content-Type': file.mimeType } },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  };
}
