import type { Detector } from '../../core/detector.js';

/**
 * ImSwitch's long-exposure threshold in ms: above it a live stream shows one stale frame every
 * few seconds, so startLiveView refuses without `force` and the web app offers Snap instead.
 */
export const LONG_EXPOSURE_THRESHOLD_MS = 2000;

/** Exposure parameters of liveview's detectors and how many ms one unit of each is. */
const EXPOSURE_PARAMETERS: readonly [name: string, msPerUnit: number][] = [
  ['exposure_ms', 1], // mock and plugins following liveview's naming
  ['ExposureTime', 0.001], // GenICam (SFNC): microseconds
  ['exposure_time_absolute', 0.1], // V4L2: units of 100 microseconds
];

/** A detector's exposure time in ms, 0 when it has no exposure parameter liveview knows. */
export function exposureMsOf(detector: Detector): number {
  let values: Record<string, unknown>;
  try {
    values = detector.getParameters();
  } catch {
    return 0;
  }
  for (const [name, msPerUnit] of EXPOSURE_PARAMETERS) {
    const value = values[name];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value * msPerUnit;
  }
  return 0;
}

/** ImSwitch's getLongExposureInfo answer for a detector. */
export interface LongExposureInfo {
  /** Detector name. */
  detector: string;
  /** Its exposure in ms (0 when unknown). */
  exposureMs: number;
  /** LONG_EXPOSURE_THRESHOLD_MS. */
  thresholdMs: number;
  /** True when the exposure is above the threshold. */
  isLongExposure: boolean;
}

/** Whether a detector's exposure rules out a live stream, as ImSwitch reports it. */
export function longExposureInfo(detector: Detector): LongExposureInfo {
  const exposureMs = exposureMsOf(detector);
  return {
    detector: detector.name,
    exposureMs,
    thresholdMs: LONG_EXPOSURE_THRESHOLD_MS,
    isLongExposure: exposureMs > LONG_EXPOSURE_THRESHOLD_MS,
  };
}
