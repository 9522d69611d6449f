import {
  AVMEDIA_TYPE_VIDEO,
  AV_CODEC_ID_H264,
  AV_PKT_DATA_NEW_EXTRADATA,
  BitStreamFilter,
  BitStreamFilterContext,
  FFmpegError,
  Packet,
  Rational,
} from 'node-av';

/**
 * The SPS and PPS (Annex B) of an H.264 keyframe, found by FFmpeg's `extract_extradata` bitstream
 * filter: the MP4 muxer builds the track's `avcC` from them (and turns Annex B samples into
 * length-prefixed ones itself when the extradata is Annex B). Undefined if the frame has none.
 */
export async function h264Extradata(keyframe: Uint8Array): Promise<Buffer | undefined> {
  const filter = BitStreamFilter.getByName('extract_extradata');
  if (!filter) throw new Error("this FFmpeg build has no 'extract_extradata' bitstream filter");
  const bsf = new BitStreamFilterContext();
  const input = new Packet();
  const output = new Packet();
  input.alloc();
  output.alloc();
  try {
    FFmpegError.throwIfError(bsf.alloc(filter), 'extract_extradata');
    const par = bsf.inputCodecParameters!;
    par.codecType = AVMEDIA_TYPE_VIDEO;
    par.codecId = AV_CODEC_ID_H264;
    bsf.inputTimeBase = new Rational(1, 90_000);
    FFmpegError.throwIfError(bsf.init(), 'extract_extradata');
    input.data = Buffer.from(keyframe.buffer, keyframe.byteOffset, keyframe.byteLength);
    input.pts = 0n;
    input.dts = 0n;
    input.isKeyframe = true;
    FFmpegError.throwIfError(await bsf.sendPacket(input), 'extract_extradata');
    FFmpegError.throwIfError(await bsf.receivePacket(output), 'extract_extradata');
    const extradata = output.getSideData(AV_PKT_DATA_NEW_EXTRADATA);
    return extradata && extradata.length > 0 ? Buffer.from(extradata) : undefined;
  } finally {
    input.free();
    output.free();
    bsf.free();
  }
}
