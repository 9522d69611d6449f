import type { Router } from 'express';
import { IsIn, IsOptional } from 'class-validator';
import {
  Text,
  injectable,
  type ApiRoutes,
  type Protocol,
  type StreamHub,
  type WorkerContext,
} from '../../index.js';
import { MJPEG_CONTENT_TYPE, framingOf, type MjpegFraming } from './multipart.js';
import { MjpegParams } from './params.js';
import { MjpegSession, type MjpegPart } from './session.js';
import { MjpegWorker } from './worker.js';

/** Milliseconds a snapshot waits for a frame (default 5000). */
const SNAPSHOT_TIMEOUT_MS = 5000;

/** Query of the stream and the snapshot. */
class DetectorQuery {
  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;
}

/** Query of the stream. */
class StreamQuery extends DetectorQuery {
  /**
   * Part framing (default: `ahead` for a browser's `<img>`, known by `Sec-Fetch-Dest: image`, else
   * `headers`): `headers` gives every part Content-Length, X-Frame-Number, X-Timestamp and
   * X-Detector; `ahead` sends each part's end and the next part's plain headers right after its
   * JPEG, so that a browser shows a frame when it arrives instead of one frame later.
   */
  @IsOptional()
  @IsIn(['headers', 'ahead'])
  framing?: MjpegFraming;
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

  registerRoutes(_router: Router, hub: StreamHub<MjpegWorker>, routes: ApiRoutes): void {
    routes.route({
      method: 'get',
      path: '/mjpeg',
      summary: "A detector's MJPEG stream (multipart/x-mixed-replace; plays in <img>)",
      description:
        'Starts the stream on demand; it stops after the last client leaves (and a grace period).',
      role: 'viewer',
      query: StreamQuery,
      responses: {
        200: {
          description: 'An endless multipart stream of JPEG images.',
          contentType: MJPEG_CONTENT_TYPE,
        },
      },
      handler: async (req, res, { query }) => {
        const worker = await hub.ensure(query.detectorName);
        const framing = framingOf(req.get('sec-fetch-dest'), query.framing);
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
          worker.addSession(new MjpegSession(res, (s) => worker.removeSession(s), framing));
        } finally {
          hub.release(worker);
        }
      },
    });

    routes.route({
      method: 'get',
      path: '/snapshot.jpg',
      summary: "One JPEG of a detector's stream",
      description: `Starts the stream on demand and waits up to ${SNAPSHOT_TIMEOUT_MS} ms for a frame.`,
      role: 'viewer',
      query: DetectorQuery,
      responses: {
        200: {
          description: 'The JPEG image.',
          contentType: 'image/jpeg',
          headers: {
            'X-Frame-Number': 'Frame number of the image.',
            'X-Timestamp': 'Capture time in nanoseconds.',
          },
        },
      },
      handler: async (_req, res, { query }) => {
        const worker = await hub.ensure(query.detectorName);
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
      },
    });
  }
}

/** The unit type of MJPEG streams, for other modules. */
export type { MjpegPart };
