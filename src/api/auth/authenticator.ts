import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  SignJWT,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { ROLES, type Principal, type Role } from '../../core/access.js';
import { tokenDigest, type AuthConfig, type JwtConfig } from '../../core/auth-config.js';
import { ForbiddenError, LiveViewError, UnauthorizedError } from '../../core/errors.js';

/** What a token the server signs itself is for: a login's cookie, or a short-lived URL token. */
export type IssuedKind = 'session' | 'url';

/** A principal with the time its credential stops being valid (ms since the epoch), if it does. */
export interface Verified {
  /** Who. */
  principal: Principal;
  /** Expiry of the credential (ms since the epoch); undefined for static tokens. */
  expiresAt?: number;
}

/** Key id of the tokens the server signs for itself, so they are never mistaken for a provider's. */
const ISSUED_KID = 'liveview-issued';
/** Issuer claim of the server's own tokens. */
const ISSUER = 'liveview';

/**
 * Checks credentials: static tokens (constant-time, by SHA-256 digest), JWTs of an identity
 * provider (HS* secret or JWKS), and the session and URL tokens the server signs itself.
 * Messages never contain the credential.
 */
export class Authenticator {
  /** Key of the server's own tokens: new at each start, so a restart logs everyone out. */
  private readonly issuedKey = randomBytes(32);
  private readonly providerKeys: JWTVerifyGetKey | Uint8Array | undefined;
  /** Session tokens ended by a logout, with the time they would have expired (ms). */
  private readonly revoked = new Map<string, number>();

  constructor(readonly config: AuthConfig) {
    this.providerKeys = config.jwt ? providerKeys(config.jwt) : undefined;
  }

  /** Whether requests need a credential. */
  get enabled(): boolean {
    return this.config.enabled;
  }

  /** Checks a bearer credential (static token or provider JWT); throws 401/403 with the reason. */
  async verifyBearer(token: string): Promise<Verified> {
    const staticToken = this.matchStatic(token);
    if (staticToken) return { principal: staticToken };
    if (this.config.jwt && looksLikeJwt(token) && !this.isIssued(token))
      return this.verifyProviderJwt(token, this.config.jwt);
    throw new UnauthorizedError('invalid token: it matches no configured token');
  }

  /** Checks a token the server signed (`kind` says which sort is acceptable here). */
  async verifyIssued(token: string, kind: IssuedKind): Promise<Verified> {
    if (!looksLikeJwt(token) || !this.isIssued(token))
      throw new UnauthorizedError(`invalid ${kind} token`);
    try {
      const { payload } = await jwtVerify(token, this.issuedKey, {
        issuer: ISSUER,
        audience: `liveview:${kind}`,
        algorithms: ['HS256'],
      });
      const role = payload.role;
      if (typeof payload.sub !== 'string' || !isRole(role))
        throw new UnauthorizedError(`invalid ${kind} token`);
      // Only after the checks: a token of another kind is refused as such, revoked or not.
      this.forgetExpiredRevocations();
      if (this.revoked.has(token))
        throw new UnauthorizedError('session ended (logged out): log in again');
      return {
        principal: { subject: payload.sub, role, via: kind === 'url' ? 'signed-url' : 'session' },
        expiresAt: (payload.exp ?? 0) * 1000,
      };
    } catch (err) {
      throw unauthorized(err, kind === 'session' ? 'session (log in again)' : 'URL token');
    }
  }

  /**
   * Ends a session token before its expiry (logout): a copy of the cookie stops working too.
   * Kept in memory until it would have expired anyway; a restart ends every session regardless.
   */
  async revoke(token: string): Promise<void> {
    try {
      const { expiresAt } = await this.verifyIssued(token, 'session');
      if (expiresAt !== undefined) this.revoked.set(token, expiresAt);
    } catch {
      // Invalid or already ended: nothing to revoke.
    }
  }

  private forgetExpiredRevocations(): void {
    const now = Date.now();
    for (const [token, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(token);
  }

  /** Signs a session or URL token for `principal`, valid for `ttlS` seconds and never past `notAfter` (ms). */
  async issue(
    principal: Principal,
    kind: IssuedKind,
    ttlS: number,
    notAfter?: number,
  ): Promise<{ token: string; expiresAt: number }> {
    const nowS = Math.floor(Date.now() / 1000);
    let expS = nowS + ttlS;
    if (notAfter !== undefined) expS = Math.min(expS, Math.floor(notAfter / 1000));
    const token = await new SignJWT({ role: principal.role })
      .setProtectedHeader({ alg: 'HS256', kid: ISSUED_KID })
      .setIssuer(ISSUER)
      .setAudience(`liveview:${kind}`)
      .setSubject(principal.subject)
      .setIssuedAt(nowS)
      // Unique per token: two logins in one second must not be one revocable token.
      .setJti(randomBytes(12).toString('base64url'))
      .setExpirationTime(expS)
      .sign(this.issuedKey);
    return { token, expiresAt: expS * 1000 };
  }

  private matchStatic(token: string): Principal | undefined {
    const digest = tokenDigest(token);
    let found: Principal | undefined;
    // Every entry is compared, equal-length digests, so timing tells nothing about which matched.
    for (const entry of this.config.tokens) {
      if (timingSafeEqual(digest, entry.digest) && !found)
        found = { subject: entry.name, role: entry.role, via: 'token' };
    }
    return found;
  }

  private isIssued(token: string): boolean {
    try {
      return decodeProtectedHeader(token).kid === ISSUED_KID;
    } catch {
      return false;
    }
  }

  private async verifyProviderJwt(token: string, jwt: JwtConfig): Promise<Verified> {
    let payload: JWTPayload;
    try {
      const options = {
        issuer: jwt.issuer,
        audience: jwt.audience,
        algorithms: jwt.algorithms,
      };
      const keys = this.providerKeys;
      payload =
        keys instanceof Uint8Array
          ? (await jwtVerify(token, keys, options)).payload
          : (await jwtVerify(token, keys as JWTVerifyGetKey, options)).payload;
    } catch (err) {
      throw unauthorized(err, 'JWT');
    }
    const role = roleFromClaim(claimAt(payload, jwt.roleClaim), jwt.roleMap);
    const subject = typeof payload.sub === 'string' && payload.sub ? payload.sub : 'jwt';
    if (!role)
      throw new ForbiddenError(
        `the JWT of '${subject}' grants no liveview role (claim '${jwt.roleClaim}' must name one of: ${[...ROLES, ...Object.keys(jwt.roleMap)].join(', ')})`,
      );
    return {
      principal: { subject, role, via: 'jwt' },
      expiresAt: payload.exp !== undefined ? payload.exp * 1000 : undefined,
    };
  }
}

function providerKeys(jwt: JwtConfig): JWTVerifyGetKey | Uint8Array | undefined {
  if (jwt.secret) return jwt.secret;
  if (jwt.jwks) return createLocalJWKSet(jwt.jwks as Parameters<typeof createLocalJWKSet>[0]);
  if (jwt.jwksUrl) return createRemoteJWKSet(jwt.jwksUrl);
  return undefined;
}

function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The value at a dotted claim path such as `realm_access.roles`. */
function claimAt(payload: JWTPayload, dotted: string): unknown {
  let value: unknown = payload;
  for (const part of dotted.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part))
      return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The strongest role a claim value (a string, a space-separated list or an array) grants. */
export function roleFromClaim(value: unknown, roleMap: Record<string, Role>): Role | undefined {
  const names = typeof value === 'string' ? value.split(/\s+/) : Array.isArray(value) ? value : [];
  let best = -1;
  for (const name of names) {
    if (typeof name !== 'string') continue;
    const role = Object.hasOwn(roleMap, name) ? roleMap[name] : isRole(name) ? name : undefined;
    if (role) best = Math.max(best, ROLES.indexOf(role));
  }
  return best >= 0 ? ROLES[best] : undefined;
}

/** A 401 that says why a JWT failed (expired, bad signature, wrong claim), never what it was. */
function unauthorized(err: unknown, what: string): LiveViewError {
  if (err instanceof LiveViewError) return err;
  if (err instanceof errors.JWTExpired) return new UnauthorizedError(`${what} expired`);
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return new UnauthorizedError(`invalid ${what}: signature does not verify`);
  if (err instanceof errors.JWTClaimValidationFailed)
    return new UnauthorizedError(`invalid ${what}: claim '${err.claim}' ${err.reason}`);
  if (err instanceof errors.JWKSNoMatchingKey)
    return new UnauthorizedError(`invalid ${what}: no key of the JWKS matches it`);
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new UnauthorizedError(`invalid ${what}: algorithm not allowed`);
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || isFetchFailure(err))
    // The provider is at fault, not the caller: 503, so that clients retry instead of re-login.
    return new LiveViewError(
      `cannot check the ${what} now: the identity provider's JWKS is unavailable (${(err as Error).message})`,
      503,
    );
  return new UnauthorizedError(`invalid ${what}`);
}

/** A JWKS download that failed below HTTP (refused, DNS) or with a non-2xx answer. */
function isFetchFailure(err: unknown): boolean {
  return (
    err instanceof TypeError || (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC')
  );
}
