import type { RtpPacket } from 'werift';
import type { VideoCodec } from './params.js';

/** One encoded frame in one codec, packetized once for every viewer. */
export interface EncodedVideo {
  /** The codec. */
  codec: VideoCodec;
  /** True if a viewer can start decoding here. */
  keyframe: boolean;
  /** RTP packets (sequence numbers are rewritten per viewer). */
  packets: RtpPacket[];
  /**
   * The encoder's output itself, for consumers other than RTP viewers (recordings, relays): H.264
   * Annex B NAL units (SPS/PPS in-band before each IDR), or one VP8 frame.
   */
  accessUnit: Uint8Array;
}

/** What a WebRTC stream makes of one frame: the video per codec in use, and its metadata. */
export interface VideoUnit {
  /** Encoded video per codec (a stream encodes only the codecs its viewers use). */
  video: Partial<Record<VideoCodec, EncodedVideo>>;
  /** JSON for the `metadata` data channel. */
  metadata: string;
}
