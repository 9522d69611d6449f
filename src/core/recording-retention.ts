import type { RetentionConfig } from './recordings-config.js';

/** What retention needs to know of a finished recording. */
export interface RetainedRecording {
  /** Id. */
  id: string;
  /** When it stopped, ms since the Unix epoch. */
  stoppedAtMs: number;
  /** Bytes on disk. */
  bytes: number;
}

/**
 * The finished recordings retention deletes: those older than `max_age_days`, then the oldest
 * while the rest together exceed `max_total_bytes`. Pure, so that the policy is tested alone.
 */
export function expiredRecordings(
  finished: readonly RetainedRecording[],
  retention: RetentionConfig,
  nowMs: number,
): string[] {
  const oldestFirst = [...finished].sort((a, b) => a.stoppedAtMs - b.stoppedAtMs);
  const expired: string[] = [];
  const kept: RetainedRecording[] = [];
  const maxAgeMs = retention.max_age_days * 86_400_000;
  for (const r of oldestFirst) {
    if (maxAgeMs > 0 && nowMs - r.stoppedAtMs > maxAgeMs) expired.push(r.id);
    else kept.push(r);
  }
  if (retention.max_total_bytes > 0) {
    let total = kept.reduce((sum, r) => sum + r.bytes, 0);
    for (const r of kept) {
      if (total <= retention.max_total_bytes) break;
      expired.push(r.id);
      total -= r.bytes;
    }
  }
  return expired;
}
