import { IsOptional } from 'class-validator';
import type { Response } from 'express';
import type { ApiRoutes } from '../core/api-routes.js';
import type { RecordingInfo } from '../core/recording-index.js';
import type { RecordingManager } from '../core/recording-manager.js';
import { IntegerIn, Mapping, Text } from '../core/validation.js';

/** Body of POST /liveview/recordings. */
export class StartRecordingBody {
  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;

  /** Format: ome-tiff, ome-zarr, mp4, webm (GET /liveview/recordings/formats lists them). */
  @Text()
  format!: string;

  /** Name in the file name (default: the detector's); letters, digits, '_', '-', '.'. */
  @IsOptional()
  @Text()
  name?: string;

  /** Seconds after which the recording stops by itself (default recordings.max_duration_s; 0: none). */
  @IsOptional()
  @IntegerIn(0, 31_536_000)
  max_duration_s?: number;

  /** Bytes after which the recording stops by itself (default recordings.max_bytes; 0: none). */
  @IsOptional()
  @IntegerIn(0, Number.MAX_SAFE_INTEGER)
  max_bytes?: number;

  /** The format's params, plus pixel_size_um for the metadata. */
  @IsOptional()
  @Mapping()
  params?: Record<string, unknown>;
}

/** A recording as the API shows it: with the URL of its file. */
function withUrl(info: RecordingInfo): RecordingInfo & { url: string } {
  return { ...info, url: `/liveview/recordings/${encodeURIComponent(info.id)}/file` };
}

/** Sends a recording's data: a file with Range support, a directory format as one zip. */
export type RecordingDownload = (res: Response, id: string) => Promise<void>;

/** The recording's id in the path. */
const ID = { id: 'The recording id (from POST /liveview/recordings or the list).' };

/** The recordings API under /liveview/recordings: start, stop, list, download, delete. */
export function recordingRoutes(
  routes: ApiRoutes,
  recordings: RecordingManager,
  download: RecordingDownload,
): void {
  // Recording fills the instrument's disk and deleting loses data: operators only.
  routes.route({
    method: 'get',
    path: '/formats',
    summary: 'Lists the recording formats',
    role: 'viewer',
    responses: { 200: 'The formats: name, description, extension, directory.' },
    handler: (_req, res) => {
      const formats = recordings.formats().map((f) => ({
        name: f.name,
        description: f.description,
        extension: f.extension,
        directory: f.directory,
      }));
      res.json({ status: 'success', formats });
    },
  });

  routes.route({
    method: 'post',
    path: '/',
    summary: 'Starts recording a detector',
    description:
      'Every frame the detector delivers goes to the file (raw formats), or the encoded frames of its WebRTC stream (mp4, webm: one encoder for viewers and recording).',
    role: 'operator',
    body: StartRecordingBody,
    responses: {
      201: {
        description: 'The recording, with the URL of its file.',
        headers: { Location: 'The recording.' },
      },
      404: 'Unknown detector.',
    },
    handler: async (_req, res, { body }) => {
      const recording = withUrl(await recordings.start(body));
      res.status(201).location(`/liveview/recordings/${encodeURIComponent(recording.id)}`);
      res.json({ status: 'success', recording });
    },
  });

  routes.route({
    method: 'get',
    path: '/',
    summary: 'Lists the recordings, active and finished',
    role: 'viewer',
    responses: { 200: 'Active recordings first, then finished ones, newest first.' },
    handler: (_req, res) => {
      res.json({ status: 'success', recordings: recordings.list().map(withUrl) });
    },
  });

  routes.route({
    method: 'get',
    path: '/:id',
    summary: 'One recording: state, frames written and dropped, bytes, duration, error',
    role: 'viewer',
    pathParams: ID,
    responses: { 200: 'The recording.', 404: 'Unknown recording.' },
    handler: (req, res) => {
      res.json({ status: 'success', recording: withUrl(recordings.get(req.params.id as string)) });
    },
  });

  routes.route({
    method: 'post',
    path: '/:id/stop',
    summary: 'Stops a recording; answers once its file is complete',
    role: 'operator',
    pathParams: ID,
    responses: { 200: 'The finished recording.', 404: 'Unknown recording.' },
    handler: async (req, res) => {
      const recording = await recordings.stop(req.params.id as string);
      res.json({ status: 'success', recording: withUrl(recording) });
    },
  });

  routes.route({
    method: 'get',
    path: '/:id/file',
    summary: 'Downloads a finished recording (Range supported; a directory format as one zip)',
    role: 'viewer',
    pathParams: ID,
    responses: {
      200: { description: 'The file, as an attachment.', contentType: 'application/octet-stream' },
      206: { description: 'The requested range.', contentType: 'application/octet-stream' },
      404: 'Unknown recording, or its data is gone.',
      409: 'The recording is still being written.',
    },
    handler: async (req, res) => {
      await download(res, req.params.id as string);
    },
  });

  routes.route({
    method: 'delete',
    path: '/:id',
    summary: 'Deletes a recording and its data (an active one is stopped first)',
    role: 'operator',
    pathParams: ID,
    responses: { 200: 'Deleted.', 404: 'Unknown recording.' },
    handler: async (req, res) => {
      await recordings.remove(req.params.id as string);
      res.json({ status: 'success', id: req.params.id });
    },
  });
}
