import { IsOptional, ValidateBy, type ValidationOptions } from 'class-validator';
import type { StreamParams } from '../../core/stream-params.js';
import { Flag, IntegerIn, OneOf, Text, TextList } from '../../core/validation.js';

/** The protocols of ImSwitch's LiveViewController. */
export const IMSWITCH_PROTOCOLS = ['binary', 'jpeg', 'mjpeg', 'webrtc'] as const;

/** An ImSwitch live-view protocol. */
export type ImswitchProtocol = (typeof IMSWITCH_PROTOCOLS)[number];

/**
 * The liveview protocol whose stream serves each ImSwitch protocol. `jpeg` (JPEG frames over
 * Socket.IO) takes the mjpeg stream's JPEG, so one encoder serves both.
 */
export const LIVEVIEW_PROTOCOL: Readonly<Record<ImswitchProtocol, string>> = {
  binary: 'binary',
  jpeg: 'mjpeg',
  mjpeg: 'mjpeg',
  webrtc: 'webrtc',
};

/** ImSwitch protocols whose frames travel over the Socket.IO channel. */
export const SOCKET_PROTOCOLS: readonly ImswitchProtocol[] = ['binary', 'jpeg'];

/** ImSwitch's names for compression algorithms and liveview's for each. */
const COMPRESSION_OF: ReadonlyMap<unknown, string> = new Map([
  ['none', 'none'],
  ['lz4', 'lz4'],
  ['zstd', 'zstd'],
  ['zstandard', 'zstd'],
]);

/** `crop_size` must be 0: liveview crops with the detector's region of interest instead. */
function NoCrop(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'noCrop',
      validator: {
        validate: (v) => v === 0,
        defaultMessage: () =>
          'liveview has no center crop: only 0 is accepted; set a region of interest on the detector instead (POST /liveview/detectors/{name}/parameters)',
      },
    },
    options,
  );
}

/** A list of mappings, checked in detail by the webrtc protocol's params. */
function MappingList(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'mappingList',
      validator: {
        validate: (v) =>
          Array.isArray(v) &&
          v.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e)),
        defaultMessage: () => 'must be a list of {urls, username, credential} mappings',
      },
    },
    options,
  );
}

/**
 * Stream params by ImSwitch's names (its `StreamParams`), as its web app and scripts send them.
 * Every key is optional; only the ones given change anything. Keys that do not apply to a
 * protocol (jpeg_quality for binary…) are accepted and ignored, as ImSwitch does.
 */
export class ImswitchStreamParams {
  /** Ignored (ImSwitch echoes it in its answers). */
  @IsOptional()
  @Text()
  detector_name?: string | null;

  /** The protocol the params are for (setDetectorStreamParameters stores it; elsewhere ignored). */
  @IsOptional()
  @OneOf(IMSWITCH_PROTOCOLS)
  protocol?: ImswitchProtocol;

  /** binary: none, lz4 or zstd (zstandard is read as zstd). */
  @IsOptional()
  @OneOf([...COMPRESSION_OF.keys()])
  compression_algorithm?: string;

  /** binary: the Zstandard level; liveview takes 1..19, values outside are clamped to it. */
  @IsOptional()
  @IntegerIn(0, 22)
  compression_level?: number;

  /** Keep every n-th pixel and row, 1..64. */
  @IsOptional()
  @IntegerIn(1, 64)
  subsampling_factor?: number;

  /** Minimum milliseconds between two frames, 0..60000. */
  @IsOptional()
  @IntegerIn(0, 60000)
  throttle_ms?: number;

  /** Center crop: only 0 (none) is supported. */
  @IsOptional()
  @NoCrop()
  crop_size?: number;

  /** jpeg, mjpeg: JPEG quality 1..100. */
  @IsOptional()
  @IntegerIn(1, 100)
  jpeg_quality?: number;

  /** webrtc: STUN server URLs given to the peer. */
  @IsOptional()
  @TextList()
  stun_servers?: string[];

  /** webrtc: TURN servers, as liveview's webrtc params take them ({urls, username, credential} or {urls, secret}). */
  @IsOptional()
  @MappingList()
  turn_servers?: Record<string, unknown>[];

  /** Largest width sent, 0 = no limit (liveview subsamples further until it fits). */
  @IsOptional()
  @IntegerIn(0, 16384)
  max_width?: number;

  /** Ignored (ImSwitch's fan-out of frames to its other controllers). */
  @IsOptional()
  @Flag()
  broadcast_frames?: boolean;
}

/** ImSwitch's `StreamParams.to_dict()`: the params as its answers show them. */
export interface ImswitchParamsDict {
  detector_name: string | null;
  protocol: ImswitchProtocol;
  compression_algorithm: string;
  compression_level: number;
  subsampling_factor: number;
  throttle_ms: number;
  crop_size: number;
  jpeg_quality: number;
  stun_servers: unknown[];
  turn_servers: unknown[];
  max_width: number;
  broadcast_frames: boolean;
}

/** Liveview's Zstandard levels. */
const LEVELS = [1, 19] as const;

/**
 * The liveview params (liveview's names) that ImSwitch params (its names: a request's, or a saved
 * dict) mean for a liveview protocol whose params class has `known` keys; keys the protocol lacks
 * are left out.
 */
export function toLiveviewParams(
  imswitch: Readonly<Partial<ImswitchStreamParams>> | Readonly<ImswitchParamsDict>,
  known: readonly string[],
): Record<string, unknown> {
  const p = imswitch as Readonly<Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  const put = (key: string, value: unknown) => {
    if (value !== undefined && known.includes(key)) out[key] = value;
  };
  const level = p.compression_level;
  put('throttle_ms', p.throttle_ms);
  put('subsampling_factor', p.subsampling_factor);
  put('max_width', p.max_width);
  put('jpeg_quality', p.jpeg_quality);
  put('compression', COMPRESSION_OF.get(p.compression_algorithm));
  put(
    'compression_level',
    typeof level === 'number' ? Math.min(LEVELS[1], Math.max(LEVELS[0], level)) : level,
  );
  put('stun_servers', p.stun_servers);
  put('turn_servers', p.turn_servers);
  return out;
}

/**
 * A liveview stream's params as ImSwitch's answers show them. Fields that do not apply to the
 * protocol carry ImSwitch's defaults, as its answers do.
 */
export function toImswitchDict(
  params: StreamParams,
  protocol: ImswitchProtocol,
  detectorName: string | null,
): ImswitchParamsDict {
  const v = params as unknown as Record<string, unknown>;
  const pick = <T>(key: string, fallback: T): T => (key in v ? (v[key] as T) : fallback);
  return {
    detector_name: detectorName,
    protocol,
    compression_algorithm: pick('compression', 'lz4'),
    compression_level: pick('compression_level', 0),
    subsampling_factor: params.subsampling_factor,
    throttle_ms: params.throttle_ms,
    crop_size: 0,
    jpeg_quality: pick('jpeg_quality', 80),
    stun_servers: pick('stun_servers', []),
    turn_servers: pick('turn_servers', []),
    max_width: params.max_width,
    broadcast_frames: true,
  };
}

/** The keys of an ImSwitch params dict that every protocol shares (kept when a detector changes protocol). */
export const COMMON_KEYS = ['subsampling_factor', 'throttle_ms', 'crop_size'] as const;
