import type { RouteHandler } from '../../core/api-routes.js';
import { checkRole } from '../../core/access.js';
import { ConflictError } from '../../core/errors.js';
import { MJPEG_CONTENT_TYPE, framingOf } from '../../protocols/mjpeg/multipart.js';
import { MjpegSession } from '../../protocols/mjpeg/session.js';
import type { MjpegStreamQuery } from './requests.js';
import { checkHeaderCredential } from './state-changing-get.js';
import type { ImswitchStreams } from './streams.js';

/**
 * ImSwitch's mjpeg_stream (and the older RecordingController/video_feeder): the detector's mjpeg
 * stream, started as ImSwitch's `mjpeg` stream if it is not active. The client is an ordinary
 * MJPEG session of liveview's mjpeg stream (one JPEG encode per frame for every viewer); a
 * stopLiveView ends it. `startStream=false` stops the detector's streams instead (operators).
 */
export function mjpegStreamHandler(
  streams: ImswitchStreams,
): RouteHandler<MjpegStreamQuery, undefined> {
  return async (req, res, { query }) => {
    if (query.startStream === false) {
      checkRole(req, 'operator', 'stopping streams (startStream=false)');
      checkHeaderCredential(req, 'mjpeg_stream?startStream=false');
      streams.stop({ detectorName: query.detectorName });
      res.json({ status: 'success', message: 'stream stopped' });
      return;
    }
    const name = streams.controller.detectorName(query.detectorName);
    if (!streams.find(name, 'mjpeg')) {
      const answer = await streams.start({ detectorName: name, protocol: 'mjpeg' });
      // As ImSwitch: the refusal comes back as JSON instead of a stream.
      if (answer.status === 'long_exposure') {
        res.json(answer);
        return;
      }
    }
    const record = streams.find(name, 'mjpeg');
    if (!record) throw new ConflictError(`the mjpeg stream of ${name} was stopped meanwhile`);
    const worker = await streams.hold(record);
    try {
      if (!streams.isActive(record))
        throw new ConflictError(`the mjpeg stream of ${name} was stopped meanwhile`);
      res.writeHead(200, {
        'Content-Type': MJPEG_CONTENT_TYPE,
        'Cache-Control': 'no-cache, no-store, must-revalidate',
        Pragma: 'no-cache',
        Expires: '0',
        'X-Accel-Buffering': 'no',
        Connection: 'close',
      });
      // Headers now: a client of a stalled camera sees the stream open instead of a hang.
      res.flushHeaders();
      const session = new MjpegSession(
        res,
        (s) => {
          worker.removeSession(s);
          // Stopped under its viewer (through /liveview, or shutdown): so is the ImSwitch stream.
          if (!worker.running) streams.lost(record);
        },
        // ImSwitch's web app shows it in an <img>: the framing that shows each frame at once.
        framingOf(req.get('sec-fetch-dest')),
      );
      worker.addSession(session);
      streams.track(record, session, worker);
    } finally {
      streams.release(worker);
    }
  };
}
