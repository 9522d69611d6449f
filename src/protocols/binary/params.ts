import { IntegerIn, OneOf, StreamParams } from '../../index.js';
import { COMPRESSIONS, type Compression } from './packet.js';

/** Params of a binary (UC2F over WebSocket) stream; normalization params do not apply (lossless). */
export class BinaryParams extends StreamParams {
  /** Payload compression (default lz4): none, lz4 (LZ4 frame format) or zstd (Zstandard). */
  @OneOf(COMPRESSIONS)
  compression: Compression = 'lz4';

  /** Zstandard level 1..19 (default 1: fastest); LZ4 and none ignore it. */
  @IntegerIn(1, 19)
  compression_level = 1;

  /** Frames a client may have unacknowledged before it is skipped to the newest (default 3). */
  @IntegerIn(1, 64)
  max_in_flight = 3;
}
