import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IsOptional } from 'class-validator';
import { ROLES, type Role } from './access.js';
import { ConfigError, errorMessage } from './errors.js';
import {
  IntegerIn,
  Mapping,
  OneOf,
  Text,
  TextList,
  isMapping,
  validateInto,
} from './validation.js';

/** One entry of `auth.tokens:`: a static bearer token and its role. */
export class TokenEntry {
  /** Who holds the token; shown in logs and errors instead of the token (required). */
  @Text()
  name!: string;

  /** The token itself (at least 16 characters); or give `sha256` so the file never holds it. */
  @IsOptional()
  @Text()
  token?: string;

  /** Hex SHA-256 of the token, instead of `token` (e.g. `printf %s "$TOKEN" | sha256sum`). */
  @IsOptional()
  @Text()
  sha256?: string;

  /** Role the token grants (default viewer). */
  @OneOf(ROLES)
  role: Role = 'viewer';
}

/** `auth.jwt:`: JSON Web Tokens from an identity provider, as MediaMTX reads them. */
export class JwtSection {
  /** Shared secret for HS256/384/512 tokens; or `secret_file`. */
  @IsOptional()
  @Text()
  secret?: string;

  /** File holding the shared secret (trailing newline ignored). */
  @IsOptional()
  @Text()
  secret_file?: string;

  /** URL of the provider's JWKS (public keys), fetched and cached; or `jwks_file`. */
  @IsOptional()
  @Text()
  jwks_url?: string;

  /** File holding a JWKS (`{"keys": […]}`). */
  @IsOptional()
  @Text()
  jwks_file?: string;

  /** Required `iss` claim (default: not checked). */
  @IsOptional()
  @Text()
  issuer?: string;

  /** Required `aud` claim (default: not checked). */
  @IsOptional()
  @Text()
  audience?: string;

  /** Claim holding the role(s), a dotted path such as `realm_access.roles` (default liveview_role). */
  @Text()
  role_claim = 'liveview_role';

  /** Claim values to roles, e.g. `{scope-view: viewer}` (default: the role names themselves). */
  @Mapping()
  role_map: Record<string, string> = {};

  /** Accepted signature algorithms (default: HS256 with a secret, RS256/ES256/EdDSA with keys). */
  @IsOptional()
  @TextList()
  algorithms?: string[];
}

/** `auth:` as written (checked by parseAuthConfig). */
class AuthSection {
  /** Static tokens (default none). */
  @IsOptional()
  tokens: unknown = [];

  /** JWT verification (default none). */
  @IsOptional()
  @Mapping()
  jwt?: Record<string, unknown>;

  /** Lifetime of a login's session cookie in seconds (default 43200: 12 h). */
  @IntegerIn(60, 30 * 86400)
  session_ttl_s = 43200;

  /** Lifetime of a signed `?token=` for WebSocket and `<img>` URLs in seconds (default 60). */
  @IntegerIn(5, 3600)
  url_token_ttl_s = 60;

  /** Role that may read `/metrics` (default operator). */
  @OneOf(ROLES)
  metrics_role: Role = 'operator';
}

/** A static token as the server keeps it: only the digest. */
export interface StaticToken {
  /** Holder's name. */
  name: string;
  /** SHA-256 of the token. */
  digest: Buffer;
  /** Granted role. */
  role: Role;
}

/** JWT settings with files read and the claim mapping resolved. */
export interface JwtConfig {
  /** Shared secret (HMAC algorithms), if configured. */
  secret?: Uint8Array;
  /** JWKS from a file, if configured. */
  jwks?: { keys: Record<string, unknown>[] };
  /** JWKS URL, if configured. */
  jwksUrl?: URL;
  /** Required issuer. */
  issuer?: string;
  /** Required audience. */
  audience?: string;
  /** Dotted path of the role claim. */
  roleClaim: string;
  /** Claim value → role. */
  roleMap: Record<string, Role>;
  /** Accepted algorithms. */
  algorithms: string[];
}

/** The checked `auth:` section; `enabled` is false for `auth: none`. */
export interface AuthConfig {
  /** Whether requests need a credential. */
  enabled: boolean;
  /** Static tokens. */
  tokens: StaticToken[];
  /** JWT verification, if configured. */
  jwt?: JwtConfig;
  /** Session cookie lifetime (s). */
  sessionTtlS: number;
  /** Signed URL token lifetime (s). */
  urlTokenTtlS: number;
  /** Role needed for /metrics. */
  metricsRole: Role;
}

/** `auth: none`, the default. */
export const AUTH_NONE: AuthConfig = {
  enabled: false,
  tokens: [],
  sessionTtlS: 43200,
  urlTokenTtlS: 60,
  metricsRole: 'operator',
};

/** Static tokens shorter than this are refused: they could be guessed. */
const MIN_TOKEN_LENGTH = 16;

/** SHA-256 of a token, the form in which tokens are compared and kept. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Checks `auth:` (`none`, or a mapping with `tokens` and/or `jwt`); problems go to `problems`. */
export function parseAuthConfig(raw: unknown, configDir: string, problems: string[]): AuthConfig {
  if (raw === undefined || raw === null || raw === 'none') return AUTH_NONE;
  if (!isMapping(raw)) {
    problems.push("auth: must be 'none' or a mapping with 'tokens' and/or 'jwt'");
    return AUTH_NONE;
  }
  let section: AuthSection;
  try {
    section = validateInto(AuthSection, raw, 'auth');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return AUTH_NONE;
  }
  const tokens = parseTokens(section.tokens, problems);
  const jwt = section.jwt ? parseJwt(section.jwt, configDir, problems) : undefined;
  // Counted as written: a list whose entries are all wrong has its own messages already.
  if (Array.isArray(section.tokens) && section.tokens.length === 0 && !section.jwt)
    problems.push("auth: give 'tokens' and/or 'jwt' (or write 'auth: none' to turn it off)");
  return {
    enabled: true,
    tokens,
    jwt,
    sessionTtlS: section.session_ttl_s,
    urlTokenTtlS: section.url_token_ttl_s,
    metricsRole: section.metrics_role,
  };
}

function parseTokens(raw: unknown, problems: string[]): StaticToken[] {
  if (!Array.isArray(raw)) {
    problems.push('auth.tokens: must be a list of {name, token or sha256, role}');
    return [];
  }
  const tokens: StaticToken[] = [];
  const names = new Set<string>();
  raw.forEach((item, i) => {
    const at = `auth.tokens[${i}]`;
    let entry: TokenEntry;
    try {
      entry = validateInto(TokenEntry, item, at);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return;
    }
    if (names.has(entry.name)) problems.push(`${at}.name: '${entry.name}' is used twice`);
    names.add(entry.name);
    if ((entry.token === undefined) === (entry.sha256 === undefined)) {
      problems.push(`${at}: give exactly one of 'token' and 'sha256'`);
      return;
    }
    if (entry.token !== undefined) {
      // The value itself is never echoed: config errors are logged.
      if (entry.token.length < MIN_TOKEN_LENGTH)
        problems.push(`${at}.token: too short (at least ${MIN_TOKEN_LENGTH} characters)`);
      else tokens.push({ name: entry.name, digest: tokenDigest(entry.token), role: entry.role });
    } else if (!/^[0-9a-f]{64}$/i.test(entry.sha256 ?? '')) {
      problems.push(`${at}.sha256: must be 64 hex digits (the SHA-256 of the token)`);
    } else {
      tokens.push({
        name: entry.name,
        digest: Buffer.from(entry.sha256 as string, 'hex'),
        role: entry.role,
      });
    }
  });
  return tokens;
}

function parseJwt(
  raw: Record<string, unknown>,
  configDir: string,
  problems: string[],
): JwtConfig | undefined {
  let section: JwtSection;
  try {
    section = validateInto(JwtSection, raw, 'auth.jwt');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return undefined;
  }
  const read = (key: string, file: string): string | undefined => {
    try {
      return readFileSync(path.resolve(configDir, file), 'utf8');
    } catch (err) {
      problems.push(`auth.jwt.${key}: cannot read ${file}: ${errorMessage(err)}`);
      return undefined;
    }
  };
  const sources = ['secret', 'secret_file', 'jwks_url', 'jwks_file'].filter(
    (k) => section[k as keyof JwtSection] !== undefined,
  );
  if (sources.length !== 1) {
    problems.push(
      `auth.jwt: give exactly one of secret, secret_file, jwks_url, jwks_file (given: ${sources.join(', ') || 'none'})`,
    );
    return undefined;
  }
  const config: JwtConfig = {
    issuer: section.issuer,
    audience: section.audience,
    roleClaim: section.role_claim,
    roleMap: {},
    algorithms: section.algorithms ?? [],
  };
  const secretText =
    section.secret ??
    (section.secret_file ? read('secret_file', section.secret_file)?.trimEnd() : undefined);
  if (secretText !== undefined) {
    if (secretText.length < 32)
      problems.push('auth.jwt: the HMAC secret must have at least 32 characters');
    config.secret = new TextEncoder().encode(secretText);
    if (config.algorithms.length === 0) config.algorithms = ['HS256'];
  }
  if (section.jwks_file) {
    const text = read('jwks_file', section.jwks_file);
    if (text !== undefined) {
      try {
        const jwks = JSON.parse(text) as unknown;
        if (!isMapping(jwks) || !Array.isArray(jwks.keys)) throw new Error("no 'keys' list");
        config.jwks = jwks as { keys: Record<string, unknown>[] };
      } catch (err) {
        problems.push(`auth.jwt.jwks_file: not a JWKS: ${errorMessage(err)}`);
      }
    }
  }
  if (section.jwks_url) {
    try {
      config.jwksUrl = new URL(section.jwks_url);
      if (!/^https?:$/.test(config.jwksUrl.protocol)) throw new Error('must be http(s)');
    } catch (err) {
      problems.push(`auth.jwt.jwks_url: ${errorMessage(err)}`);
    }
  }
  if (!config.secret && config.algorithms.length === 0)
    config.algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];
  for (const [claim, role] of Object.entries(section.role_map)) {
    if ((ROLES as readonly string[]).includes(role)) config.roleMap[claim] = role as Role;
    else problems.push(`auth.jwt.role_map.${claim}: must be one of: ${ROLES.join(', ')}`);
  }
  return config;
}
