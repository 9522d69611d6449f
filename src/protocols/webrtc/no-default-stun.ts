import { Connection } from 'werift';

/** The part of werift's ICE connection this module changes (a private method in its types). */
interface IceConnectionInternals {
  options: { stunServer?: unknown };
  stunServer?: unknown;
  applyStunTurnServersFromOptions(): void;
}

/**
 * werift (0.25) gathers through a public Google STUN server whenever none is configured, even
 * with `iceServers: []`: a server configured with no STUN servers would contact Google for every
 * viewer, and where that name does not resolve an answer waits out werift's 5 s STUN timeout.
 * Without a configured STUN server, liveview gathers host candidates only, as configured.
 * Returns false if werift no longer has the method (then this needs a new look).
 */
export function disableDefaultStunServer(): boolean {
  const proto = Connection.prototype as unknown as IceConnectionInternals;
  const original = proto.applyStunTurnServersFromOptions;
  if (typeof original !== 'function') return false;
  if ((original as { liveviewPatched?: boolean }).liveviewPatched) return true;
  const patched = function (this: IceConnectionInternals): void {
    original.call(this);
    if (this.options.stunServer === undefined) this.stunServer = undefined;
  };
  (patched as { liveviewPatched?: boolean }).liveviewPatched = true;
  proto.applyStunTurnServersFromOptions = patched;
  return true;
}
