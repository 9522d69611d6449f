// Hidden values in answers that show stream params (getStreamParams, setStreamParams,
// getActiveStreams, startLiveView, /liveview/protocols): a TURN secret or credential is shown as a
// placeholder `(redacted:<tag>)`, and a client that sends params back unchanged (setStreamParams
// with what getStreamParams answered) gets the real value again, not the placeholder.
import { createHmac, randomBytes } from 'node:crypto';

/** Key of this process's placeholder tags: a tag says nothing about the value it hides. */
const TAG_KEY = randomBytes(32);
/** Most placeholders remembered (oldest forgotten first): values set through the API are bounded. */
const MAX_REMEMBERED = 1024;
const remembered = new Map<string, string>();

const PLACEHOLDER = /^\(redacted:[0-9a-f]{16}\)$/;

/** The placeholder shown instead of `value` (the same one for the same value, in this process). */
export function redact(value: string): string {
  const tag = createHmac('sha256', TAG_KEY).update(value).digest('hex').slice(0, 16);
  const placeholder = `(redacted:${tag})`;
  if (!remembered.has(placeholder)) {
    if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
    remembered.set(placeholder, value);
  }
  return placeholder;
}

/** The value a placeholder of this process hides; anything else unchanged. */
export function unredact(value: unknown): unknown {
  return typeof value === 'string' ? (remembered.get(value) ?? value) : value;
}

/** True for a placeholder (one this process no longer knows, once unredact() has run). */
export function isPlaceholder(value: unknown): boolean {
  return typeof value === 'string' && PLACEHOLDER.test(value);
}
