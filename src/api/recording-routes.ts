import { IsOptional } from 'class-validator';
import { Router, type Response } from 'express';
import { requireRole } from '../core/access.js';
import type { RecordingInfo } from '../core/recording-index.js';
import type { RecordingManager } from '../core/recording-manager.js';
import { IntegerIn, Mapping, Text } from '../core/validation.js';
import { jsonBody, parseBody } from './requests.js';

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

/** The recordings API under /liveview/recordings: start, stop, list, download, delete. */
export function recordingRouter(recordings: RecordingManager, download: RecordingDownload): Router {
  const router = Router();
  // Recording fills the instrument's disk and deleting loses data: operators only.
  const operator = requireRole('operator');

  router.get('/formats', (_req, res) => {
    const formats = recordings.formats().map((f) => ({
      name: f.name,
      description: f.description,
      extension: f.extension,
      directory: f.directory,
    }));
    res.json({ status: 'success', formats });
  });

  router.post('/', operator, async (req, res) => {
    const body = parseBody(StartRecordingBody, jsonBody(req));
    const recording = await recordings.start(body);
    res.status(201).location(withUrl(recording).url.replace(/\/file$/, ''));
    res.json({ status: 'success', recording: withUrl(recording) });
  });

  router.get('/', (_req, res) => {
    res.json({ status: 'success', recordings: recordings.list().map(withUrl) });
  });

  router.get('/:id', (req, res) => {
    res.json({ status: 'success', recording: withUrl(recordings.get(req.params.id)) });
  });

  router.post('/:id/stop', operator, async (req, res) => {
    const recording = await recordings.stop(req.params.id as string);
    res.json({ status: 'success', recording: withUrl(recording) });
  });

  router.get('/:id/file', async (req, res) => {
    await download(res, req.params.id);
  });

  router.delete('/:id', operator, async (req, res) => {
    await recordings.remove(req.params.id as string);
    res.json({ status: 'success', id: req.params.id });
  });
  return router;
}
