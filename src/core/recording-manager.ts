import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import type { ResolvedConfig } from './config.js';
import { DetectorManager } from './detector-manager.js';
import {
  BadRequestError,
  ConflictError,
  LiveViewError,
  NotFoundError,
  errorMessage,
} from './errors.js';
import type { Logger } from './logger.js';
import { RecordingIndex, type RecordingInfo, type StopReason } from './recording-index.js';
import { recordingBaseName } from './recording-names.js';
import { expiredRecordings } from './recording-retention.js';
import type { RecordingFormat, RecordingSink } from './recording.js';
import { PluginRegistry } from './registry.js';
import { ConfigToken, LoggerToken } from './tokens.js';
import { pathExists, sizeOnDisk } from './disk-usage.js';

/** How often running recordings are checked against their limits, in ms. */
const LIMIT_CHECK_MS = 250;
/** How often retention runs besides at start-up and after each recording, in ms. */
const RETENTION_EVERY_MS = 3_600_000;

/** What starts a recording. */
export interface StartRecording {
  /** Detector (default: the first configured). */
  detectorName?: string;
  /** Format name. */
  format: string;
  /** Name used in the file name (default: the detector's). */
  name?: string;
  /** Seconds after which it stops by itself (default `recordings.max_duration_s`; 0: none). */
  max_duration_s?: number;
  /** Bytes after which it stops by itself (default `recordings.max_bytes`; 0: none). */
  max_bytes?: number;
  /** The format's params; `pixel_size_um` is taken for the metadata of every format. */
  params?: Record<string, unknown>;
}

/** Where a recording's data is, for a download. */
export interface RecordingFile {
  /** Absolute path of the file or directory. */
  path: string;
  /** True for a directory format (downloaded as zip). */
  directory: boolean;
  /** MIME type of the file. */
  mimeType: string;
  /** File name offered to the browser. */
  downloadName: string;
}

interface ActiveRecording {
  info: RecordingInfo;
  sink: RecordingSink;
  format: RecordingFormat;
  startedAtMs: number;
  maxDurationMs: number;
  maxBytes: number;
  limitTimer: NodeJS.Timeout;
  stopping?: Promise<void>;
  finished?: Promise<void>;
  stopReason?: StopReason;
}

/**
 * Owns the recordings: starts a format on a detector, watches its limits, keeps the list of
 * active and finished recordings (persisted in the recordings folder, so that it survives a
 * restart), serves their files to downloads and applies retention. Nothing outside the folder is
 * ever written, served or deleted.
 */
@injectable()
export class RecordingManager {
  /** The recordings folder, absolute. */
  readonly dir: string;
  private readonly active = new Map<string, ActiveRecording>();
  private readonly index: RecordingIndex;
  private retentionTimer: NodeJS.Timeout | undefined;
  private opened: Promise<void> | undefined;
  private closed = false;

  constructor(
    @inject(ConfigToken) private readonly config: ResolvedConfig,
    @inject(PluginRegistry) private readonly registry: PluginRegistry,
    @inject(DetectorManager) private readonly detectors: DetectorManager,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {
    this.dir = path.resolve(config.configDir, config.recordings.dir);
    this.index = new RecordingIndex(this.dir, logger);
  }

  /** Loads the list of finished recordings and applies retention; safe to call more than once. */
  open(): Promise<void> {
    this.opened ??= (async () => {
      await this.index.load();
      await this.applyRetention();
      this.retentionTimer = setInterval(() => void this.applyRetention(), RETENTION_EVERY_MS);
      this.retentionTimer.unref();
    })();
    return this.opened;
  }

  /** Every format known: the plugins' and the protocols' (those that record their encoded output). */
  formats(): RecordingFormat[] {
    const all = new Map<string, RecordingFormat>();
    for (const f of this.registry.allRecordingFormats()) all.set(f.name, f);
    for (const p of this.registry.allProtocols()) {
      for (const f of p.recordingFormats?.() ?? []) if (!all.has(f.name)) all.set(f.name, f);
    }
    return [...all.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Starts a recording; 400 for a bad request, 404 for an unknown detector. */
  async start(request: StartRecording): Promise<RecordingInfo> {
    if (this.closed) throw new LiveViewError('the server is stopping: no new recordings', 503);
    await this.open();
    const detectorName = request.detectorName ?? this.detectors.defaultName;
    this.detectors.source(detectorName); // 404 listing the known ones
    const format = this.findFormat(request.format);
    const { pixel_size_um: pixelSize, ...params } = request.params ?? {};
    if (pixelSize !== undefined && !(typeof pixelSize === 'number' && pixelSize > 0))
      throw new BadRequestError('params.pixel_size_um: must be a positive number (micrometres)');
    const startedAt = new Date();
    const base = recordingBaseName(this.config.recordings.name_pattern, {
      detector: detectorName,
      format: format.name,
      time: startedAt,
      name: request.name,
    });
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (err) {
      throw new LiveViewError(
        `cannot create the recordings folder (recordings.dir): ${errorMessage(err)}`,
        500,
      );
    }
    const file = await this.freeName(base, format.extension);
    const id = randomUUID();
    const target = path.join(this.dir, file);
    const sink = await format.start({
      path: target,
      detectorName,
      pixelSizeUm: pixelSize as number | undefined,
      params,
      queueFrames: this.config.recordings.queue_frames,
      logger: this.logger.child({ recording: id, detector: detectorName, format: format.name }),
      subscribeFrames: (capacity) => this.detectors.source(detectorName).subscribe(capacity),
    });
    const info: RecordingInfo = {
      id,
      detectorName,
      format: format.name,
      file,
      state: 'recording',
      startedAt: startedAt.toISOString(),
      framesWritten: 0,
      framesDropped: 0,
      bytes: 0,
      durationS: 0,
    };
    const recording: ActiveRecording = {
      info,
      sink,
      format,
      startedAtMs: startedAt.getTime(),
      maxDurationMs: (request.max_duration_s ?? this.config.recordings.max_duration_s) * 1000,
      maxBytes: request.max_bytes ?? this.config.recordings.max_bytes,
      limitTimer: setInterval(() => this.checkLimits(recording), LIMIT_CHECK_MS),
    };
    recording.limitTimer.unref();
    this.active.set(id, recording);
    await this.index.put(info);
    sink.ended.then(
      () => void this.finish(recording, 'ended'),
      (err: unknown) => void this.finish(recording, 'error', errorMessage(err)),
    );
    this.logger.info(
      { recording: id, detector: detectorName, format: format.name, file },
      'recording started',
    );
    return this.snapshot(recording);
  }

  /** Stops a recording and resolves once its file is complete; a finished one is returned as is. */
  async stop(id: string, reason: StopReason = 'requested'): Promise<RecordingInfo> {
    const recording = this.active.get(id);
    if (!recording) return this.get(id);
    recording.stopReason ??= reason;
    recording.info.state = 'stopping';
    recording.stopping ??= recording.sink.stop().then(
      () => this.finish(recording, 'ended'),
      (err: unknown) => this.finish(recording, 'error', errorMessage(err)),
    );
    await recording.stopping;
    return this.get(id);
  }

  /** Active recordings first, then finished ones, newest first. */
  list(): RecordingInfo[] {
    const active = [...this.active.values()].map((r) => this.snapshot(r));
    return [...active.reverse(), ...this.index.all().reverse()];
  }

  /** One recording; 404 when unknown. */
  get(id: string): RecordingInfo {
    const active = this.active.get(id);
    if (active) return this.snapshot(active);
    const finished = this.index.find(id);
    if (!finished)
      throw new NotFoundError(`unknown recording '${id}' (GET /liveview/recordings lists them)`);
    return { ...finished };
  }

  /** Where a recording's data is; 404 when unknown or gone, 409 while it is being written. */
  async file(id: string): Promise<RecordingFile> {
    const info = this.get(id);
    if (this.active.has(id))
      throw new ConflictError(
        `recording '${id}' is still being written: stop it first (POST /liveview/recordings/${id}/stop)`,
      );
    const where = this.inside(info.file);
    if (!(await pathExists(where)))
      throw new NotFoundError(`the data of recording '${id}' is gone from the recordings folder`);
    const format = this.formats().find((f) => f.name === info.format);
    const directory = format?.directory ?? false;
    return {
      path: where,
      directory,
      mimeType: directory ? 'application/zip' : (format?.mimeType ?? 'application/octet-stream'),
      downloadName: directory ? `${info.file}.zip` : info.file,
    };
  }

  /** Deletes a recording's data and its entry; an active one is stopped first. */
  async remove(id: string): Promise<void> {
    if (this.active.has(id)) await this.stop(id);
    const info = this.get(id);
    await rm(this.inside(info.file), { recursive: true, force: true });
    await this.index.remove(id);
    this.logger.info({ recording: id, file: info.file }, 'recording deleted');
  }

  /** Stops every recording (their files are completed) and the retention timer. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.retentionTimer);
    await Promise.all([...this.active.keys()].map((id) => this.stop(id, 'shutdown')));
    await this.index.flush();
  }

  private findFormat(name: string): RecordingFormat {
    const formats = this.formats();
    const format = formats.find((f) => f.name === name);
    if (!format)
      throw new BadRequestError(
        `format: unknown recording format '${String(name)}' (known formats: ${formats.map((f) => f.name).join(', ') || 'none'})`,
      );
    return format;
  }

  /** A file name not yet taken in the folder or the list: `base`, `base-2`, `base-3`… */
  private async freeName(base: string, extension: string): Promise<string> {
    const taken = new Set([...this.active.values()].map((r) => r.info.file));
    for (let n = 1; ; n++) {
      const name = `${n === 1 ? base : `${base}-${n}`}${extension}`;
      if (
        !taken.has(name) &&
        !this.index.hasFile(name) &&
        !(await pathExists(path.join(this.dir, name)))
      )
        return name;
    }
  }

  /** The absolute path of a name in the folder; a name that would leave it is refused. */
  private inside(name: string): string {
    const where = path.resolve(this.dir, name);
    if (path.dirname(where) !== this.dir)
      throw new NotFoundError(`recording file '${name}' is not in the recordings folder`);
    return where;
  }

  private checkLimits(recording: ActiveRecording): void {
    if (recording.stopping) return;
    if (
      recording.maxDurationMs > 0 &&
      Date.now() - recording.startedAtMs >= recording.maxDurationMs
    )
      void this.stop(recording.info.id, 'max_duration');
    else if (recording.maxBytes > 0 && recording.sink.stats.bytesWritten >= recording.maxBytes)
      void this.stop(recording.info.id, 'max_bytes');
  }

  private snapshot(recording: ActiveRecording): RecordingInfo {
    const s = recording.sink.stats;
    const info = recording.info;
    info.framesWritten = s.framesWritten;
    info.framesDropped = s.framesDropped;
    info.bytes = s.bytesWritten;
    info.durationS =
      s.firstTimestamp !== undefined && s.lastTimestamp !== undefined
        ? Number(s.lastTimestamp - s.firstTimestamp) / 1e9
        : 0;
    return { ...info };
  }

  /** Moves a recording from the active ones to the finished list, once; every caller waits for it. */
  private finish(
    recording: ActiveRecording,
    how: 'ended' | 'error',
    error?: string,
  ): Promise<void> {
    recording.finished ??= this.moveToFinished(recording, how, error);
    return recording.finished;
  }

  private async moveToFinished(
    recording: ActiveRecording,
    how: 'ended' | 'error',
    error?: string,
  ): Promise<void> {
    const id = recording.info.id;
    clearInterval(recording.limitTimer);
    const info = this.snapshot(recording);
    info.stoppedAt = new Date().toISOString();
    // What the format counted may lag the disk (a trailer, metadata written at the end).
    info.bytes = await sizeOnDisk(this.inside(info.file)).catch(() => info.bytes);
    if (how === 'ended' && info.framesWritten === 0) {
      // A file without a frame is not a valid TIFF or Zarr: nothing is better than a broken file.
      how = 'error';
      error =
        'no frame was recorded: the detector delivered none before the recording stopped (is it running? GET /liveview/detectors)';
      await rm(this.inside(info.file), { recursive: true, force: true });
      info.bytes = 0;
    }
    if (how === 'error') {
      info.state = 'error';
      info.error = error;
      this.logger.error({ recording: id, file: info.file }, `recording failed: ${error}`);
    } else {
      info.state = 'finished';
      info.stopReason = recording.stopReason ?? 'ended';
      this.logger.info(
        { recording: id, file: info.file, frames: info.framesWritten, dropped: info.framesDropped },
        'recording finished',
      );
    }
    await this.index.put(info);
    this.active.delete(id);
    if (!this.closed) await this.applyRetention();
  }

  private async applyRetention(): Promise<void> {
    const expired = expiredRecordings(
      this.index.all().map((r) => ({
        id: r.id,
        stoppedAtMs: Date.parse(r.stoppedAt ?? r.startedAt),
        bytes: r.bytes,
      })),
      this.config.recordings.retention,
      Date.now(),
    );
    for (const id of expired) {
      try {
        await this.remove(id);
      } catch (err) {
        this.logger.warn(
          { recording: id },
          `retention could not delete a recording: ${errorMessage(err)}`,
        );
      }
    }
  }
}
