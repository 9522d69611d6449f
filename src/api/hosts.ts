import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { ForbiddenError } from '../core/errors.js';
import type { UpgradeGuard } from './upgrade-router.js';

/** The config key an operator changes to let a host name in; every refusal names it. */
const CONFIG_KEY = 'server.allowed_hosts';

/** Which `Host` names the server answers to; built once from `server.allowed_hosts`. */
export interface HostPolicy {
  /** Any host (`'*'` listed, or the list empty with authentication on); default false. */
  readonly any: boolean;
  /** Exact names, lowercase, without a trailing dot (default none). */
  readonly names: ReadonlySet<string>;
  /** Suffixes from `.example.org` entries, each matching the name and every name below it (default none). */
  readonly suffixes: readonly string[];
}

/**
 * Builds the policy of `server.allowed_hosts`. Loopback names and IP literals always pass: a DNS
 * rebinding attack needs a name the attacker's DNS server answers for. An empty list means any
 * host when authentication is on (a rebinding page then has no credential to use) and only
 * those otherwise.
 */
export function hostPolicy(allowedHosts: readonly string[], authEnabled: boolean): HostPolicy {
  const names = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of allowedHosts) {
    const name = normalizeName(entry);
    if (name === '*' || name === '') continue;
    if (name.startsWith('.')) suffixes.push(name.slice(1));
    else names.add(name);
  }
  return {
    any: allowedHosts.includes('*') || (allowedHosts.length === 0 && authEnabled),
    names,
    suffixes,
  };
}

/**
 * The host name of a `Host` header: lowercase, without port, brackets or trailing dot;
 * undefined when the header is not `host[:port]`.
 */
export function hostName(header: string): string | undefined {
  const value = header.trim();
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::\d{0,5})?$/.exec(value);
  if (bracketed) return isIP(bracketed[1]) === 6 ? bracketed[1].toLowerCase() : undefined;
  const plain = /^([^:[\]\s/\\?#@]+)(?::\d{0,5})?$/.exec(value);
  return plain ? normalizeName(plain[1]) : undefined;
}

/** True when a request with this `Host` header may be answered. */
export function isHostAllowed(header: string | undefined, policy: HostPolicy): boolean {
  if (policy.any) return true;
  // HTTP/1.0 without Host: no browser sends that, so there is nothing to rebind.
  if (header === undefined) return true;
  const name = hostName(header);
  if (name === undefined) return false;
  if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
  if (policy.names.has(name)) return true;
  return policy.suffixes.some((s) => name === s || name.endsWith(`.${s}`));
}

/** The 403 for a request to a host name the policy does not allow. */
export function refusedHostError(header: string): ForbiddenError {
  return new ForbiddenError(
    `requests for host ${JSON.stringify(hostName(header) ?? header)} are refused ` +
      `(protection against DNS rebinding): add the name to ${CONFIG_KEY} to serve it`,
  );
}

/** Refuses REST requests whose `Host` is not allowed, before any other middleware sees them. */
export function hostMiddleware(policy: HostPolicy): RequestHandler {
  return (req, _res, next) => {
    const host = req.headers.host;
    next(isHostAllowed(host, policy) ? undefined : refusedHostError(host ?? ''));
  };
}

/** Refuses WebSocket upgrades whose `Host` is not allowed. */
export function hostGuard(policy: HostPolicy): UpgradeGuard {
  return (req) => {
    const host = req.headers.host;
    if (!isHostAllowed(host, policy)) throw refusedHostError(host ?? '');
  };
}

/** Lowercase and without the trailing dot of a fully qualified name (`localhost.`). */
function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') && lower.length > 1 ? lower.slice(0, -1) : lower;
}
