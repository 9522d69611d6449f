import { IsOptional, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { IntegerIn, OneOf, StreamParams, Text, TextList } from '../../index.js';

/** Video codecs liveview encodes for WebRTC. */
export const VIDEO_CODECS = ['VP8', 'H264'] as const;
/** A WebRTC video codec. */
export type VideoCodec = (typeof VIDEO_CODECS)[number];

/** A TURN server, as in RTCIceServer. */
export class TurnServer {
  /** turn: or turns: URLs. */
  @TextList()
  urls: string[] = [];

  /** User name. */
  @IsOptional()
  @Text()
  username?: string;

  /** Password. */
  @IsOptional()
  @Text()
  credential?: string;
}

/** Params of a WebRTC stream. */
export class WebrtcParams extends StreamParams {
  /** Preferred codec (default VP8); a viewer whose offer lacks it gets the other one. */
  @OneOf(VIDEO_CODECS)
  codec: VideoCodec = 'VP8';

  /** Highest target bitrate in bit/s (default 4 000 000). */
  @IntegerIn(50_000, 100_000_000)
  max_bitrate = 4_000_000;

  /** Lowest target bitrate in bit/s when viewers report less bandwidth (default 300 000). */
  @IntegerIn(50_000, 100_000_000)
  min_bitrate = 300_000;

  /** STUN server URLs given to peers (default none: loopback and LAN need none). */
  @TextList()
  stun_servers: string[] = [];

  /** Local addresses ICE offers as host candidates (default none: every interface, plus 127.0.0.1). */
  @TextList()
  ice_host_addresses: string[] = [];

  /** Viewer addresses ICE may use, e.g. [127.0.0.1] to keep media on loopback (default none: any). */
  @TextList()
  ice_remote_addresses: string[] = [];

  /** TURN servers (objects with urls, username, credential; default none). */
  @ValidateNested({ each: true })
  @Type(() => TurnServer)
  turn_servers: TurnServer[] = [];
}
