import { DEFAULT_RECORDING_QUEUE_FRAMES } from '../../src/core/frame-recording.js';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { RecordingContext } from '../../src/core/recording.js';
import { decodePixelCode } from '../../src/core/pixel-code.js';
import type { LiveViewServer } from '../../src/api/server.js';
import type { WebrtcProtocol } from '../../src/protocols/webrtc/protocol.js';
import type { RecordingFormat } from '../../src/core/recording.js';

const run = promisify(execFile);

/** The WebRTC protocol of a running server, as its registry holds it. */
export function webrtcProtocol(server: LiveViewServer): WebrtcProtocol {
  const protocol = server.controller.registry.findProtocol('webrtc');
  if (!protocol) throw new Error('the server has no webrtc protocol');
  return protocol as WebrtcProtocol;
}

/** One of the WebRTC protocol's recording formats by name. */
export function videoFormat(server: LiveViewServer, name: 'mp4' | 'webm'): RecordingFormat {
  const format = webrtcProtocol(server)
    .recordingFormats()
    .find((f) => f.name === name);
  if (!format) throw new Error(`no ${name} format`);
  return format;
}

/** A RecordingContext as the recording manager would give it (video formats take no raw frames). */
export function videoContext(
  path: string,
  params: Record<string, unknown> = {},
  detectorName = 'Camera',
): RecordingContext {
  return {
    path,
    detectorName,
    params,
    logger: pino({ level: 'silent' }),
    queueFrames: DEFAULT_RECORDING_QUEUE_FRAMES,
    subscribeFrames: () => Promise.reject(new Error('video formats record the encoded stream')),
  };
}

/** What Debian's ffprobe reports of a video file. */
export interface ProbedVideo {
  codec: string;
  width: number;
  height: number;
  /** Frames decoded (`-count_frames`). */
  frames: number;
  /** The container's duration in s. */
  duration: number;
  /** Presentation time of every packet in s, in file order. */
  pts: number[];
  /** Keyframe flag of every packet. */
  keyframes: boolean[];
  /** Byte position of every packet. */
  positions: number[];
}

/** Reads a video file with ffprobe (an independent reader: Debian's FFmpeg, not node-av's). */
export async function probeVideo(path: string): Promise<ProbedVideo> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height,nb_read_frames:format=duration:packet=pts_time,flags,pos',
      '-of',
      'json',
      path,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const json = JSON.parse(stdout) as {
    streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[];
    format: { duration?: string };
    packets: { pts_time: string; flags: string; pos: string }[];
  };
  const stream = json.streams[0];
  return {
    codec: stream.codec_name,
    width: stream.width,
    height: stream.height,
    frames: Number(stream.nb_read_frames),
    duration: Number(json.format.duration ?? NaN),
    pts: json.packets.map((p) => Number(p.pts_time)),
    keyframes: json.packets.map((p) => p.flags.startsWith('K')),
    positions: json.packets.map((p) => Number(p.pos)),
  };
}

/** What Debian's ffmpeg decoded of a video file. */
export interface DecodedVideo {
  /** The pixel code of every frame (null if unreadable). */
  codes: ({ frameNumber: number; timestampMs: number } | null)[];
  /** What ffmpeg complained about while decoding ('' for a clean file). */
  errors: string;
}

/** Decodes every frame of a video file with Debian's ffmpeg and reads its pixel code. */
export async function decodeVideo(
  path: string,
  width: number,
  height: number,
): Promise<DecodedVideo> {
  const child = spawn(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      path,
      // Every frame once, at its own time (variable frame rate: no frame doubled or dropped).
      '-fps_mode',
      'passthrough',
      '-enc_time_base',
      '-1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errors = '';
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout) chunks.push(chunk as Buffer);
  await new Promise((r) => (child.exitCode === null ? child.once('close', r) : r(undefined)));
  const raw = Buffer.concat(chunks);
  const size = width * height;
  const codes = [];
  for (let at = 0; at + size <= raw.length; at += size) {
    codes.push(decodePixelCode(raw.subarray(at, at + size), width, height, 1));
  }
  return { codes, errors };
}

/** Byte offsets of every box of a type at the top level of an MP4 file (e.g. `moof`). */
export function topLevelBoxes(file: Buffer, type: string): number[] {
  const found: number[] = [];
  for (let at = 0; at + 8 <= file.length;) {
    let size = file.readUInt32BE(at);
    if (size === 1) size = Number(file.readBigUInt64BE(at + 8));
    if (file.toString('latin1', at + 4, at + 8) === type) found.push(at);
    if (size < 8) break;
    at += size;
  }
  return found;
}

/** Byte offsets of the Matroska Cluster element IDs in a WebM file. */
export function clusterOffsets(file: Buffer): number[] {
  const id = Buffer.from([0x1f, 0x43, 0xb6, 0x75]);
  const found: number[] = [];
  for (let at = file.indexOf(id); at >= 0; at = file.indexOf(id, at + 4)) found.push(at);
  return found;
}
