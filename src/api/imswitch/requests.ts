import { Transform } from 'class-transformer';
import { IsOptional, ValidateBy, type ValidationOptions } from 'class-validator';
import type { RequestHandler } from 'express';
import { BadRequestError, ConfigError } from '../../core/errors.js';
import { Mapping, OneOf, Text, validateInto } from '../../core/validation.js';
import { IMSWITCH_PROTOCOLS, ImswitchStreamParams, type ImswitchProtocol } from './params.js';

/** Query words ImSwitch's server (FastAPI) reads as booleans. */
const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

/** A query flag: true/false, 1/0, yes/no or on/off (any case), read into a boolean. */
function QueryFlag(options?: ValidationOptions): PropertyDecorator {
  const transform = Transform(
    ({ value }) =>
      typeof value === 'string' ? (BOOLEAN_WORDS[value.toLowerCase()] ?? value) : value,
    { toClassOnly: true },
  );
  const check = ValidateBy(
    {
      name: 'queryFlag',
      validator: {
        validate: (v) => typeof v === 'boolean',
        defaultMessage: () => 'must be true or false (1/0, yes/no, on/off are read too)',
      },
    },
    options,
  );
  return (target, key) => {
    transform(target, key);
    check(target, key);
  };
}

/** Query of POST /imswitch/api/LiveViewController/startLiveView (the body is the params). */
export class StartLiveViewQuery {
  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;

  /** binary, jpeg, mjpeg or webrtc (default jpeg, as ImSwitch). */
  @OneOf(IMSWITCH_PROTOCOLS)
  protocol: ImswitchProtocol = 'jpeg';

  /** Start even when the exposure is above the long-exposure threshold (default false). */
  @IsOptional()
  @QueryFlag()
  force?: boolean;
}

/** Query of GET /imswitch/api/LiveViewController/stopLiveView. */
export class StopLiveViewQuery {
  /** Detector (default: the one of the first running stream). */
  @IsOptional()
  @Text()
  detectorName?: string;

  /** Stop only this protocol's stream (default: every stream of the detector, as ImSwitch). */
  @IsOptional()
  @OneOf(IMSWITCH_PROTOCOLS)
  protocol?: ImswitchProtocol;

  /** Accepted and ignored: liveview stops the camera once nobody watches it. */
  @IsOptional()
  @QueryFlag()
  stopCamera?: boolean;
}

/** Query naming an optional detector (getLongExposureInfo). */
export class DetectorQuery {
  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;
}

/** Query of GET /imswitch/api/LiveViewController/getStreamParameters. */
export class StreamParametersQuery {
  /** One protocol's params (default: every protocol, with the active streams). */
  @IsOptional()
  @OneOf(IMSWITCH_PROTOCOLS)
  protocol?: ImswitchProtocol;

  /** The detector whose protocol is `current_protocol` (default: the first running stream). */
  @IsOptional()
  @Text()
  detectorName?: string;
}

/** Query of POST /imswitch/api/LiveViewController/setStreamParameters (the body is the params). */
export class SetStreamParametersQuery {
  /** binary, jpeg, mjpeg or webrtc. */
  @OneOf(IMSWITCH_PROTOCOLS)
  protocol!: ImswitchProtocol;
}

/** Query of POST /imswitch/api/LiveViewController/setDetectorStreamParameters (the body is the params). */
export class SetDetectorStreamParametersQuery {
  /** The detector whose saved params change. */
  @Text()
  detectorName!: string;
}

/** Query of GET …/LiveViewController/mjpeg_stream and …/RecordingController/video_feeder. */
export class MjpegStreamQuery {
  /** true: stream; false: stop the detector's streams (default true). */
  @IsOptional()
  @QueryFlag()
  startStream?: boolean;

  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;

  /** Anything: ImSwitch's web app adds it to defeat caches. */
  @IsOptional()
  @Text()
  t?: string;
}

/** Body of POST /imswitch/api/LiveViewController/webrtc_offer: ImSwitch's and the design note's. */
export class ImswitchOfferBody {
  /** The browser's SDP offer, ICE gathering complete. */
  @Text()
  sdp!: string;

  /** ImSwitch's name for the description type: `offer`. */
  @IsOptional()
  @OneOf(['offer'])
  sdp_type?: string;

  /** The design note's name for it: `offer`. */
  @IsOptional()
  @OneOf(['offer'])
  type?: string;

  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string | null;

  /** Stream params by ImSwitch's names (applied for operators only). */
  @IsOptional()
  @Mapping()
  params?: Record<string, unknown> | null;
}

/**
 * Query of the Socket.IO WebSocket handshake (/imswitch/socket.io/): Engine.IO protocol 4 over
 * the websocket transport, as socket.io-client 3 and 4 and python-socketio 5 send it.
 */
export class SocketIoQuery {
  /** The Engine.IO protocol revision: 4 only. */
  @OneOf(['4'])
  EIO!: '4';

  /** The Engine.IO transport: websocket only (no long polling). */
  @OneOf(['websocket'])
  transport!: 'websocket';
}

/**
 * Middleware: a JSON body that is a literal `null` means no params, as in ImSwitch (its params
 * body is optional); the declared body class then reads it as an empty object.
 */
export const nullBodyIsNone: RequestHandler = (req, _res, next) => {
  if (req.body === null) req.body = {};
  next();
};

/** Stream params by ImSwitch's names from a nested value (`params` of an offer). */
export function parseParams(raw: unknown, path: string): ImswitchStreamParams {
  return validated(() => validateInto(ImswitchStreamParams, raw, path));
}

/** Runs a validation; its problems become one 400. */
function validated<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ConfigError) throw new BadRequestError(err.problems.join('; '));
    throw err;
  }
}
