import { IsOptional } from 'class-validator';
import type { Request } from 'express';
import { BadRequestError, ConfigError, LiveViewError } from '../core/errors.js';
import { Mapping, Text, type ValidatedClass, isMapping, validateInto } from '../core/validation.js';

/** Body of POST /liveview/startLiveView. */
export class StartLiveViewBody {
  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;

  /** Protocol name, e.g. mjpeg. */
  @Text()
  protocol!: string;

  /** Params for this stream over the protocol's defaults. */
  @IsOptional()
  @Mapping()
  params?: Record<string, unknown>;
}

/** Body of POST /liveview/stopLiveView. */
export class StopLiveViewBody {
  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;

  /** Protocol to stop (default: every stream of the detector). */
  @IsOptional()
  @Text()
  protocol?: string;
}

/** Body of POST /liveview/setStreamParams. */
export class SetStreamParamsBody {
  /** Protocol whose defaults and running streams change. */
  @Text()
  protocol!: string;

  /** Params to change. */
  @Mapping()
  params!: Record<string, unknown>;
}

/** Query of GET /liveview/getStreamParams. */
export class StreamParamsQuery {
  /** Protocol whose default params to show. */
  @Text()
  protocol!: string;
}

/** Body of POST /auth/login. */
export class LoginBody {
  /** A configured token or a JWT, traded for a session cookie. */
  @Text()
  token!: string;
}

/** Validates a request body; problems become one 400 naming each field. */
export function parseBody<T extends object>(cls: ValidatedClass<T>, body: unknown): T {
  if (!isMapping(body)) throw new BadRequestError('request body: must be a JSON object');
  try {
    return validateInto(cls, body, '');
  } catch (err) {
    if (err instanceof ConfigError) throw new BadRequestError(err.problems.join('; '));
    throw err;
  }
}

/**
 * The JSON body of a request: `{}` when there is none at all, 415 when there is one in another
 * type (an unparsed text or form body must not read as "no body", e.g. stop everything).
 */
export function jsonBody(req: Request): unknown {
  const length = req.headers['content-length'];
  const hasBody =
    (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return {};
  if (!req.is('application/json')) {
    throw new LiveViewError(
      `request body must be JSON: send Content-Type: application/json (got ${req.get('content-type') ?? 'none'})`,
      415,
    );
  }
  return req.body;
}
