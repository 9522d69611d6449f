import type { Router } from 'express';
import {
  BadRequestError,
  type Protocol,
  type StreamHub,
  type WorkerContext,
  injectable,
} from '../../index.js';
import { MJPEG_CONTENT_TYPE } from './multipart.js';
import { MjpegParams } from './params.js';
import { MjpegSession, type MjpegPart } from './session.js';
import { MjpegWorker } from './worker.js';

/** Milliseconds a snapshot waits for a frame (default 5000). */
const SNAPSHOT_TIMEOUT_MS = 5000;

function detectorQuery(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequestError('detectorName must be given once');
  return value;
}

/** MJPEG over HTTP: multipart/x-mixed-replace streams and single JPEG snapshots. */
@injectable()
export class MjpegProtocol implements Protocol<MjpegParams, MjpegWorker> {
  readonly name = 'mjpeg';
  readonly description =
    'Motion JPEG over HTTP (multipart/x-mixed-replace): plays in <img>, browsers, ffmpeg';
  readonly paramsClass = MjpegParams;

  createWorker(context: WorkerContext<MjpegParams>): MjpegWorker {
    return new MjpegWorker(context);
  }

  clientUrl(detectorName: string): string {
    return `/liveview/mjpeg?detectorName=${encodeURIComponent(detectorName)}`;
  }

  registerRoutes(router: Router, hub: StreamHub<MjpegWorker>): void {
    router.get('/mjpeg', async (req, res) => {
      const worker = await hub.ensure(detectorQuery(req.query.detectorName));
      try {
        res.writeHead(200, {
          'Content-Type': MJPEG_CONTENT_TYPE,
          'Cache-Control': 'no-cache, no-store, must-revalidate',
          Pragma: 'no-cache',
          'X-Accel-Buffering': 'no',
          Connection: 'close',
        });
        // Headers now, not with the first frame: a client of a stalled or failed camera sees
        // the stream open (and its status) instead of a request that hangs.
        res.flushHeaders();
        worker.addSession(new MjpegSession(res, (s) => worker.removeSession(s)));
      } finally {
        hub.release(worker);
      }
    });

    router.get('/snapshot.jpg', async (req, res) => {
      const worker = await hub.ensure(detectorQuery(req.query.detectorName));
      let unit;
      try {
        unit = await worker.nextUnit(SNAPSHOT_TIMEOUT_MS);
      } finally {
        hub.release(worker);
      }
      res.writeHead(200, {
        'Content-Type': 'image/jpeg',
        'Content-Length': unit.data.jpeg.length,
        'Cache-Control': 'no-cache, no-store, must-revalidate',
        'X-Frame-Number': unit.frameNumber,
        'X-Timestamp': unit.timestamp.toString(),
      });
      res.end(unit.data.jpeg);
    });
  }
}

/** The unit type of MJPEG streams, for other modules. */
export type { MjpegPart };
