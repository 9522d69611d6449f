import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import sinon from 'sinon';
import { Authenticator, roleFromClaim } from '../../src/api/auth/authenticator.js';
import { listensOnLoopbackOnly } from '../../src/api/server.js';
import {
  checkRole,
  hasRole,
  selectSubprotocol,
  setPrincipal,
  type Principal,
} from '../../src/core/access.js';
import { tokenDigest, type AuthConfig } from '../../src/core/auth-config.js';
import { ForbiddenError, UnauthorizedError } from '../../src/core/errors.js';

const SECRET = new TextEncoder().encode('unit-test-hmac-secret-0123456789abcdef');
const VIEWER_TOKEN = 'unit-viewer-token-0123456789';
const ADMIN_TOKEN = 'unit-admin-token-0123456789';

function config(overrides: Partial<AuthConfig> = {}): AuthConfig {
  return {
    enabled: true,
    tokens: [
      { name: 'vera', digest: tokenDigest(VIEWER_TOKEN), role: 'viewer' },
      { name: 'ada', digest: tokenDigest(ADMIN_TOKEN), role: 'admin' },
    ],
    jwt: { secret: SECRET, roleClaim: 'liveview_role', roleMap: {}, algorithms: ['HS256'] },
    sessionTtlS: 3600,
    urlTokenTtlS: 60,
    metricsRole: 'operator',
    ...overrides,
  };
}

/** The rejection of `promise` (fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('it resolved');
    },
    (e: unknown) => e as Error,
  );
}

describe('roleFromClaim', () => {
  it('reads a role name, a space-separated list or an array; the strongest wins', () => {
    expect(roleFromClaim('viewer', {})).to.equal('viewer');
    expect(roleFromClaim('viewer admin operator', {})).to.equal('admin');
    expect(roleFromClaim('  operator\tviewer ', {})).to.equal('operator');
    expect(roleFromClaim(['operator', 'viewer'], {})).to.equal('operator');
    expect(roleFromClaim(['viewer', 7, null, { role: 'admin' }, 'operator'], {})).to.equal(
      'operator',
    );
  });
  it('maps values through role_map; a mapped name means what the map says', () => {
    const map = { 'scope-view': 'viewer', 'scope-ops': 'operator', admin: 'viewer' } as const;
    expect(roleFromClaim(['scope-view'], map)).to.equal('viewer');
    expect(roleFromClaim('scope-view scope-ops', map)).to.equal('operator');
    expect(roleFromClaim(['admin'], map), 'the map wins over the role name').to.equal('viewer');
    expect(roleFromClaim(['operator', 'scope-view'], map)).to.equal('operator');
  });
  it('grants nothing for unknown names, empty values, other types and prototype keys', () => {
    for (const value of [
      undefined,
      null,
      '',
      ' ',
      'root',
      'Admin',
      42,
      true,
      { admin: true },
      [],
      ['root'],
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
    ])
      expect(roleFromClaim(value, {}), JSON.stringify(value)).to.equal(undefined);
    expect(roleFromClaim(['constructor', '__proto__'], { x: 'viewer' })).to.equal(undefined);
  });
});

describe('access: roles and subprotocols', () => {
  const req = (principal?: Principal): IncomingMessage => {
    const r = {} as IncomingMessage;
    if (principal) setPrincipal(r, principal);
    return r;
  };
  it('roles are ordered viewer < operator < admin; no principal has none', () => {
    const p = (role: Principal['role']): Principal => ({ subject: 's', role, via: 'token' });
    expect(hasRole(p('admin'), 'operator')).to.equal(true);
    expect(hasRole(p('operator'), 'operator')).to.equal(true);
    expect(hasRole(p('viewer'), 'operator')).to.equal(false);
    expect(hasRole(p('operator'), 'admin')).to.equal(false);
    expect(hasRole(undefined, 'viewer')).to.equal(false);
  });
  it('checkRole: 401 without a principal, 403 naming the role and the caller with a weak one', () => {
    expect(() => checkRole(req(), 'viewer', 'watching')).to.throw(UnauthorizedError, 'watching');
    const weak = req({ subject: 'vera', role: 'viewer', via: 'session' });
    expect(() => checkRole(weak, 'operator', 'POST /x')).to.throw(
      ForbiddenError,
      "POST /x needs the operator role; 'vera' has the viewer role",
    );
    expect(checkRole(weak, 'viewer', 'GET /x').subject).to.equal('vera');
  });
  it('selectSubprotocol never picks a bearer subprotocol', () => {
    expect(selectSubprotocol(new Set(['liveview.bearer.abc']))).to.equal(false);
    expect(selectSubprotocol(new Set(['liveview.bearer.abc', 'uc2f']))).to.equal('uc2f');
    expect(selectSubprotocol(new Set())).to.equal(false);
  });
  it('listensOnLoopbackOnly', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]'])
      expect(listensOnLoopbackOnly(host), host).to.equal(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'lab.example.org', '127.0.0.1.nip.io'])
      expect(listensOnLoopbackOnly(host), host).to.equal(false);
  });
});

describe('Authenticator', () => {
  afterEach(() => sinon.restore());

  it('static tokens: the matching entry, by digest; anything else → 401', async () => {
    const auth = new Authenticator(config());
    expect((await auth.verifyBearer(VIEWER_TOKEN)).principal).to.deep.equal({
      subject: 'vera',
      role: 'viewer',
      via: 'token',
    });
    expect((await auth.verifyBearer(ADMIN_TOKEN)).principal.role).to.equal('admin');
    expect((await auth.verifyBearer(ADMIN_TOKEN)).expiresAt).to.equal(undefined);
    for (const bad of ['', ' ', `${VIEWER_TOKEN} `, VIEWER_TOKEN.toUpperCase(), 'a.b.c']) {
      const err = await rejection(auth.verifyBearer(bad));
      expect(err, JSON.stringify(bad)).to.be.instanceOf(UnauthorizedError);
    }
  });

  it('without jwt configured, a JWT is just an unknown token', async () => {
    const auth = new Authenticator(config({ jwt: undefined }));
    const token = await new SignJWT({ liveview_role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(SECRET);
    const err = await rejection(auth.verifyBearer(token));
    expect(err).to.be.instanceOf(UnauthorizedError);
    expect(err.message).to.equal('invalid token: it matches no configured token');
  });

  it('provider JWTs: principal and expiry; no role → 403', async () => {
    const auth = new Authenticator(config());
    const exp = Math.floor(Date.now() / 1000) + 100;
    const token = await new SignJWT({ liveview_role: ['viewer', 'operator'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('jules')
      .setExpirationTime(exp)
      .sign(SECRET);
    expect(await auth.verifyBearer(token)).to.deep.equal({
      principal: { subject: 'jules', role: 'operator', via: 'jwt' },
      expiresAt: exp * 1000,
    });
    const roleless = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(exp)
      .sign(SECRET);
    const err = await rejection(auth.verifyBearer(roleless));
    expect(err).to.be.instanceOf(ForbiddenError);
    expect(err.message).to.include("the JWT of 'jwt' grants no liveview role");
  });

  it("a provider's JWT claiming the server's own key id is never taken for one of the server's", async () => {
    const auth = new Authenticator(config());
    const token = await new SignJWT({ liveview_role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', kid: 'liveview-issued' })
      .setSubject('mallory')
      .setIssuer('liveview')
      .setAudience('liveview:session')
      .setExpirationTime('5m')
      .sign(SECRET);
    expect(await rejection(auth.verifyBearer(token))).to.be.instanceOf(UnauthorizedError);
    expect(await rejection(auth.verifyIssued(token, 'session'))).to.be.instanceOf(
      UnauthorizedError,
    );
  });

  it('issued tokens round-trip, each only for its kind and its server', async () => {
    const auth = new Authenticator(config());
    const principal: Principal = { subject: 'vera', role: 'viewer', via: 'token' };
    const session = await auth.issue(principal, 'session', 3600);
    const url = await auth.issue(principal, 'url', 60);
    expect((await auth.verifyIssued(session.token, 'session')).principal).to.deep.equal({
      subject: 'vera',
      role: 'viewer',
      via: 'session',
    });
    expect((await auth.verifyIssued(url.token, 'url')).principal.via).to.equal('signed-url');
    expect(await rejection(auth.verifyIssued(session.token, 'url'))).to.be.instanceOf(
      UnauthorizedError,
    );
    expect(await rejection(auth.verifyIssued(url.token, 'session'))).to.be.instanceOf(
      UnauthorizedError,
    );
    // Never a bearer token, never accepted by another instance.
    expect(await rejection(auth.verifyBearer(session.token))).to.be.instanceOf(UnauthorizedError);
    const other = new Authenticator(config());
    const err = await rejection(other.verifyIssued(session.token, 'session'));
    expect(err.message).to.equal('invalid session (log in again): signature does not verify');
    expect(await rejection(auth.verifyIssued(VIEWER_TOKEN, 'url'))).to.be.instanceOf(
      UnauthorizedError,
    );
  });

  it('an issued token never outlives notAfter, and expires after its ttl', async () => {
    const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    const auth = new Authenticator(config());
    const principal: Principal = { subject: 'vera', role: 'viewer', via: 'jwt' };
    const notAfter = Date.now() + 30_000;
    const capped = await auth.issue(principal, 'session', 3600, notAfter);
    expect(capped.expiresAt).to.equal(Math.floor(notAfter / 1000) * 1000);
    const url = await auth.issue(principal, 'url', 5);
    expect((await auth.verifyIssued(url.token, 'url')).expiresAt).to.equal(url.expiresAt);
    clock.tick(6000);
    const err = await rejection(auth.verifyIssued(url.token, 'url'));
    expect(err).to.be.instanceOf(UnauthorizedError);
    expect(err.message).to.equal('URL token expired');
    clock.tick(30_000);
    expect((await rejection(auth.verifyIssued(capped.token, 'session'))).message).to.equal(
      'session (log in again) expired',
    );
  });
});
