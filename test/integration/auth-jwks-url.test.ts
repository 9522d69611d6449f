import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import type { LiveViewServer } from '../../src/api/server.js';
import { startTestServer } from '../helpers/server.js';

/** An identity provider's JWKS endpoint on loopback, as Keycloak or Auth0 publish one. */
async function startJwksServer(jwks: unknown): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/.well-known/jwks.json` };
}

async function sign(key: CryptoKey, kid: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid })
    .setSubject('dana')
    .setIssuer('https://idp.test')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

describe('auth: JWT checked against a JWKS URL', function () {
  this.timeout(20000);
  let idp: { server: Server; url: string };
  let liveview: LiveViewServer;
  let privateKey: CryptoKey;

  before(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    idp = await startJwksServer({ keys: [jwk] });
    liveview = await startTestServer(`
auth:
  jwt:
    jwks_url: ${idp.url}
    issuer: https://idp.test
    role_claim: realm_access.roles
    role_map: { microscope-operators: operator, microscope-users: viewer }
detectors:
  Camera: { type: mock, options: { width: 64, height: 48, fps: 10 } }
`);
  });

  after(async () => {
    await liveview?.stop();
    await new Promise((resolve) => idp?.server.close(resolve));
  });

  const call = async (token: string, path = '/liveview/getActiveStreams', method = 'GET') => {
    const res = await fetch(`${liveview.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: method === 'POST' ? JSON.stringify({ protocol: 'mjpeg' }) : undefined,
    });
    return { status: res.status, json: (await res.json()) as { status: string; message?: string } };
  };

  it('accepts a token the provider signed, with the role its mapped claim grants', async () => {
    const viewer = await sign(privateKey, 'k1', { realm_access: { roles: ['microscope-users'] } });
    expect((await call(viewer)).status).to.equal(200);
    const refused = await call(viewer, '/liveview/startLiveView', 'POST');
    expect(refused.status).to.equal(403);
    expect(refused.json.message).to.match(/operator role/);

    const operator = await sign(privateKey, 'k1', {
      realm_access: { roles: ['microscope-users', 'microscope-operators'] },
    });
    expect((await call(operator, '/liveview/startLiveView', 'POST')).status).to.equal(200);
  });

  it('refuses a token of a key the JWKS does not have', async () => {
    const other = await generateKeyPair('ES256');
    const token = await sign(other.privateKey, 'k1', {
      realm_access: { roles: ['microscope-users'] },
    });
    const answer = await call(token);
    expect(answer.status).to.equal(401);
    expect(answer.json.message).to.match(/signature/);
  });

  it('answers 503 (not 401) while the provider cannot be reached', async () => {
    const down = await startTestServer(`
auth:
  jwt: { jwks_url: 'http://127.0.0.1:1/jwks.json' }
detectors:
  Camera: { type: mock, options: { width: 64, height: 48, fps: 10 } }
`);
    try {
      const token = await sign(privateKey, 'k1', { liveview_role: 'viewer' });
      const res = await fetch(`${down.url}/liveview/getActiveStreams`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(res.status).to.equal(503);
      const json = (await res.json()) as { status: string; message: string };
      expect(json.status).to.equal('error');
      expect(json.message).to.match(/JWKS is unavailable/);
      expect(json.message).not.to.contain(token);
    } finally {
      await down.stop();
    }
  });
});
