import type { RateLimitClass } from '../../core/rate-limit-config.js';

/** Lower-cased routes of the ImSwitch API that start a viewer (counted like liveview's signaling). */
const SIGNALING = new Set([
  '/imswitch/api/liveviewcontroller/webrtc_offer',
  '/imswitch/api/liveviewcontroller/mjpeg_stream',
  '/imswitch/api/recordingcontroller/video_feeder',
]);

/** Lower-cased routes of the ImSwitch API that change state (stopLiveView is a GET there). */
const CONTROL = new Set([
  '/imswitch/api/liveviewcontroller/startliveview',
  '/imswitch/api/liveviewcontroller/stopliveview',
  '/imswitch/api/liveviewcontroller/setstreamparameters',
  '/imswitch/api/liveviewcontroller/setdetectorstreamparameters',
]);

/** The rate-limit class of an ImSwitch API request; `path` as express routes it (lower case, no trailing slash). */
export function imswitchRateClass(path: string): RateLimitClass | undefined {
  if (SIGNALING.has(path)) return 'signaling';
  if (CONTROL.has(path)) return 'control';
  return undefined;
}
