/**
 * `fetch` bounded by `timeoutMs` and an optional cancel `signal`. A request that does not get an
 * answer is thrown as `fail(reason)`, with reason 'timed out', 'cancelled' or the network error's
 * code (ECONNREFUSED…), so each client names its server in its own error type.
 */
export async function fetchWithTimeout(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  fail: (reason: string) => Error,
): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await fetch(url, {
      ...init,
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
  } catch (err) {
    const detail = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = detail?.code ?? detail?.message;
    const reason = timeout.aborted
      ? 'timed out'
      : signal?.aborted
        ? 'cancelled'
        : (cause ?? String(err));
    throw fail(reason);
  }
}
