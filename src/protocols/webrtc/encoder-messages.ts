import type { VideoCodec } from './params.js';

/** A frame for the encoder thread. */
export interface EncodeRequest {
  /** Message kind. */
  type: 'encode';
  /** Request id, echoed in the reply. */
  id: number;
  /** Codec to encode with. */
  codec: VideoCodec;
  /** Even width. */
  width: number;
  /** Even height. */
  height: number;
  /** I420 planes (transferred). */
  data: Uint8Array;
  /** Presentation time in 90 kHz units. */
  pts: number;
  /** Force a keyframe. */
  keyframe: boolean;
  /** Target bitrate in bit/s. */
  bitrate: number;
}

/** One encoded access unit (VP8 frame, or H.264 Annex B NAL units). */
export interface EncodedPacket {
  /** The bytes. */
  data: Uint8Array;
  /** True for a keyframe (IDR). */
  keyframe: boolean;
}

/** The encoder thread's answer. */
export type EncoderReply =
  | { type: 'encoded'; id: number; packets: EncodedPacket[]; encodeMs: number }
  | { type: 'error'; id: number; message: string };
