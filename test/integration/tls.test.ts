import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startServer, type LiveViewServer } from '../../src/api/server.js';
import { BINARY_PATH } from '../../src/protocols/binary/protocol.js';
import { ConfigError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { waitFor } from '../helpers/server.js';

/** A throwaway CA and the certificates it signs, made with the openssl CLI in a temp folder. */
class TestPki {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'liveview-tls-'));
  readonly caPem: Buffer;
  private serial = 0x1000;

  constructor() {
    this.openssl(
      'req',
      '-x509',
      ...['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', this.file('ca.key'), '-out', this.file('ca.pem'), '-days', '30'],
      ...['-subj', '/CN=liveview test CA'],
    );
    this.caPem = readFileSync(this.file('ca.pem'));
  }

  /** Path of a file in the folder. */
  file(name: string): string {
    return path.join(this.dir, name);
  }

  /**
   * Issues a certificate for localhost/127.0.0.1 into `<name>.pem` and `<name>.key` (temp names
   * first when `rename`, then renamed over, as certbot and cert-manager replace files). Returns
   * its serial number as Node prints it (upper-case hex).
   */
  issue(name: string, options: { cn?: string; days?: number; rename?: boolean } = {}): string {
    const serial = (this.serial += 1).toString(16).toUpperCase();
    const tmp = options.rename ? `${name}.new` : name;
    const ext = this.file(`${tmp}.ext`);
    writeFileSync(
      ext,
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
    );
    this.openssl(
      'req',
      ...['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', this.file(`${tmp}.key`), '-out', this.file(`${tmp}.csr`)],
      ...['-subj', `/CN=${options.cn ?? 'localhost'}`],
    );
    this.openssl(
      'x509',
      '-req',
      ...['-in', this.file(`${tmp}.csr`), '-CA', this.file('ca.pem')],
      ...['-CAkey', this.file('ca.key'), '-set_serial', `0x${serial}`],
      ...['-days', String(options.days ?? 30), '-extfile', ext],
      ...['-out', this.file(`${tmp}.pem`)],
    );
    if (options.rename) {
      renameSync(this.file(`${tmp}.key`), this.file(`${name}.key`));
      renameSync(this.file(`${tmp}.pem`), this.file(`${name}.pem`));
    }
    return serial;
  }

  /** Removes the folder. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}

/** Log lines of a server, parsed (pino JSON). */
interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger that keeps every line, so that tests can look for warnings. */
function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const WARN = 40;

const MOCK = `
detectors:
  Camera: { type: mock, options: { width: 64, height: 48, fps: 30 } }
`;

/** Starts a server with `server.tls` from a YAML string, paths relative to the PKI folder. */
function startTls(pki: TestPki, tls: string, logger?: Logger, port = 0): Promise<LiveViewServer> {
  return startServer({
    configText: `server:\n  tls: ${tls}\n${MOCK}`,
    configDir: pki.dir,
    port,
    host: '127.0.0.1',
    logLevel: 'silent',
    logger,
  });
}

/** GET over HTTPS trusting only the test CA. */
function httpsGet(
  url: string,
  ca: Buffer,
): Promise<{ status: number; body: string; serial: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      const serial = (
        res.socket as unknown as { getPeerCertificate(): { serialNumber?: string } }
      ).getPeerCertificate().serialNumber;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Serial number of the certificate a new TLS connection to `port` is shown. */
function peerSerial(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

/** A raw HTTP/1.1 request with a chosen Host header (or none). */
function plainGet(
  port: number,
  pathname: string,
  host: string | undefined,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: pathname, agent: false, setHost: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    if (host !== undefined) req.setHeader('Host', host);
    req.on('error', reject);
    req.end();
  });
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function configProblems(start: Promise<LiveViewServer>): Promise<string[]> {
  try {
    const server = await start;
    await server.stop();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('TLS (server.tls)', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let server: LiveViewServer | undefined;
  let firstSerial: string;

  before(() => {
    pki = new TestPki();
    firstSerial = pki.issue('server');
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  after(() => pki?.remove());

  describe('serving', () => {
    let logs: ReturnType<typeof recordingLogger>;

    beforeEach(async () => {
      firstSerial = pki.issue('server', { rename: true });
      logs = recordingLogger();
      server = await startTls(pki, '{ cert: server.pem, key: server.key }', logs.logger);
    });

    it('serves the REST API over HTTPS, and the url says https', async () => {
      expect(server!.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await httpsGet(`${server!.url}/health`, pki.caPem);
      expect(res.status).to.equal(200);
      expect(JSON.parse(res.body)).to.include({ status: 'ok' });
      expect(res.serial).to.equal(firstSerial);
    });

    it('serves the binary WebSocket over WSS', async () => {
      const ws = new WebSocket(
        `${server!.url.replace('https', 'wss')}${BINARY_PATH}?detectorName=Camera`,
        { ca: pki.caPem },
      );
      try {
        const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
          ws.once('message', (data) =>
            resolve(JSON.parse((data as Buffer).toString()) as Record<string, unknown>),
          );
          ws.once('error', reject);
        });
        expect(hello).to.include({ type: 'hello', detectorName: 'Camera', format: 'UC2F' });
      } finally {
        ws.close();
      }
    });

    it('picks up a certificate replaced by rename, without a restart', async () => {
      const next = pki.issue('server', { cn: 'localhost renewed', rename: true });
      expect(next).to.not.equal(firstSerial);
      let seen = '';
      await waitFor(async () => (seen = await peerSerial(server!.port, pki.caPem)) === next, 8000);
      expect(seen).to.equal(next);
      await waitFor(() => logs.lines.some((l) => l.msg === 'TLS certificate reloaded'));
      const line = logs.lines.find((l) => l.msg === 'TLS certificate reloaded');
      expect(line).to.deep.include({ serialNumber: next, reason: 'file change' });
      expect(line?.subject).to.contain('localhost renewed');
    });

    it('reloads on SIGHUP', async () => {
      const next = pki.issue('staged');
      // Copied in place and signalled in the same tick: the reload is the signal's; the
      // watcher's look, later, finds nothing new.
      writeFileSync(pki.file('server.key'), readFileSync(pki.file('staged.key')));
      writeFileSync(pki.file('server.pem'), readFileSync(pki.file('staged.pem')));
      process.emit('SIGHUP', 'SIGHUP');
      await waitFor(async () => (await peerSerial(server!.port, pki.caPem)) === next, 5000);
      const reloads = logs.lines.filter((l) => l.msg === 'TLS certificate reloaded');
      expect(reloads.map((l) => [l.reason, l.serialNumber])).to.deep.equal([['SIGHUP', next]]);
      // Nothing changed since: a second signal reloads the same certificate, with no warning.
      process.emit('SIGHUP', 'SIGHUP');
      await waitFor(
        () => logs.lines.filter((l) => l.msg === 'TLS certificate reloaded').length === 2,
      );
      expect(logs.lines.filter((l) => l.level === WARN)).to.deep.equal([]);
    });

    it('keeps the old certificate when the replacement is broken, and warns once', async () => {
      // A key that belongs to another certificate: written by rename, as a tool would.
      pki.issue('other');
      writeFileSync(pki.file('server.key.new'), readFileSync(pki.file('other.key')));
      renameSync(pki.file('server.key.new'), pki.file('server.key'));
      await waitFor(() => logs.lines.some((l) => l.level === WARN), 5000);
      const warnings = logs.lines.filter((l) => l.level === WARN);
      expect(warnings).to.have.length(1);
      expect(warnings[0]?.msg).to.contain('not reloaded, still serving the old one');
      expect(warnings[0]?.msg).to.contain(`${pki.file('server.key')} does not match`);
      expect(await peerSerial(server!.port, pki.caPem)).to.equal(firstSerial);
      // SIGHUP tries again (and fails again), the server keeps serving.
      process.emit('SIGHUP', 'SIGHUP');
      await waitFor(() => logs.lines.filter((l) => l.level === WARN).length === 2);
      // A garbage certificate too.
      writeFileSync(pki.file('server.pem'), 'not a certificate\n');
      await waitFor(() => logs.lines.filter((l) => l.level === WARN).length === 3, 5000);
      expect(logs.lines.at(-1)?.msg).to.contain(
        `${pki.file('server.pem')} holds no PEM certificate`,
      );
      expect((await httpsGet(`${server!.url}/health`, pki.caPem)).serial).to.equal(firstSerial);
      // The next good pair is taken.
      const fixed = pki.issue('server', { rename: true });
      await waitFor(async () => (await peerSerial(server!.port, pki.caPem)) === fixed, 8000);
    });

    it('removes its SIGHUP listener and watchers when stopped', async () => {
      await server!.stop();
      const settle = () => new Promise((r) => setTimeout(r, 50));
      const watchers = () =>
        process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'StatWatcher')
          .length;
      await settle();
      const [listeners, handles] = [process.listenerCount('SIGHUP'), watchers()];
      const fresh = await startTls(pki, '{ cert: server.pem, key: server.key }');
      expect(process.listenerCount('SIGHUP')).to.equal(listeners + 1);
      expect(watchers()).to.be.greaterThan(handles);
      await fresh.stop();
      await settle();
      expect(process.listenerCount('SIGHUP')).to.equal(listeners);
      expect(watchers()).to.equal(handles);
    });
  });

  it('warns at startup about a certificate that expires within 14 days', async () => {
    pki.issue('short', { days: 3 });
    const logs = recordingLogger();
    server = await startTls(pki, '{ cert: short.pem, key: short.key }', logs.logger);
    const warning = logs.lines.find((l) => l.level === WARN && /expires/.test(l.msg));
    expect(warning?.msg).to.match(/TLS certificate expires in [23] days: renew it/);
    expect(warning?.file).to.equal(pki.file('short.pem'));
  });

  describe('redirect_port', () => {
    let redirectPort: number;

    beforeEach(async () => {
      pki.issue('server', { rename: true });
      redirectPort = await freePort();
      server = await startTls(
        pki,
        `{ cert: server.pem, key: server.key, redirect_port: ${redirectPort} }`,
      );
    });

    it('answers plain HTTP with 308 to the HTTPS port, path and query kept', async () => {
      const res = await plainGet(redirectPort, '/liveview/detectors?x=1', 'localhost:9999');
      expect(res.status).to.equal(308);
      expect(res.headers.location).to.equal(
        `https://localhost:${server!.port}/liveview/detectors?x=1`,
      );
      const v6 = await plainGet(redirectPort, '/', '[::1]:80');
      expect(v6.headers.location).to.equal(`https://[::1]:${server!.port}/`);
      // The redirect leads to a working HTTPS server.
      const followed = await httpsGet(
        (res.headers.location as string).replace('localhost', '127.0.0.1'),
        pki.caPem,
      );
      expect(followed.status).to.equal(200);
    });

    it('answers a missing or invalid Host with a JSON 400, never an open redirect', async () => {
      for (const host of [undefined, 'evil.example/path', 'a b', 'x@evil.example', '[nope]']) {
        const res = await plainGet(redirectPort, '/', host);
        expect(res.status, `Host: ${host}`).to.equal(400);
        expect(JSON.parse(res.body)).to.include({ status: 'error' });
      }
    });

    it('closes the redirect listener with the server', async () => {
      expect(await accepts(redirectPort)).to.equal(true);
      await server!.stop();
      expect(await accepts(redirectPort)).to.equal(false);
    });

    it('a redirect port that is taken fails the start and leaves nothing behind', async () => {
      const listeners = process.listenerCount('SIGHUP');
      const err = await startTls(
        pki,
        `{ cert: server.pem, key: server.key, redirect_port: ${redirectPort} }`,
      ).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).to.contain(`127.0.0.1:${redirectPort} (server.tls.redirect_port)`);
      expect(process.listenerCount('SIGHUP')).to.equal(listeners);
    });
  });

  describe('config errors, before any port is opened', () => {
    it('a missing file names its key path', async () => {
      pki.issue('server', { rename: true });
      const port = await freePort();
      const problems = await configProblems(
        startTls(pki, '{ cert: missing.pem, key: nokey.key }', undefined, port),
      );
      expect(problems).to.deep.equal([
        `server.tls.cert: cannot read ${pki.file('missing.pem')}: ENOENT: no such file or directory, open '${pki.file('missing.pem')}'`,
        `server.tls.key: cannot read ${pki.file('nokey.key')}: ENOENT: no such file or directory, open '${pki.file('nokey.key')}'`,
      ]);
      expect(await accepts(port)).to.equal(false);
    });

    it('a key that does not match the certificate', async () => {
      pki.issue('other');
      const port = await freePort();
      const problems = await configProblems(
        startTls(pki, '{ cert: server.pem, key: other.key }', undefined, port),
      );
      expect(problems).to.deep.equal([
        `server.tls.key: ${pki.file('other.key')} does not match the certificate in ${pki.file('server.pem')} (server.tls.cert)`,
      ]);
      expect(await accepts(port)).to.equal(false);
    });

    it('files that are not PEM, and a redirect port equal to the port', async () => {
      writeFileSync(pki.file('garbage.pem'), 'hello\n');
      const port = await freePort();
      const problems = await configProblems(
        startTls(
          pki,
          `{ cert: garbage.pem, key: server.pem, redirect_port: ${port} }`,
          undefined,
          port,
        ),
      );
      expect(problems).to.deep.equal([
        `server.tls.redirect_port: must differ from server.port (${port})`,
        `server.tls.cert: ${pki.file('garbage.pem')} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
        `server.tls.key: ${pki.file('server.pem')} holds no PEM private key (-----BEGIN PRIVATE KEY-----)`,
      ]);
    });

    it('an encrypted key says what to do', async () => {
      execFileSync('openssl', [
        ...['pkey', '-in', pki.file('server.key'), '-aes256', '-passout', 'pass:secret'],
        ...['-out', pki.file('encrypted.key')],
      ]);
      const problems = await configProblems(
        startTls(pki, '{ cert: server.pem, key: encrypted.key }'),
      );
      expect(problems).to.deep.equal([
        `server.tls.key: ${pki.file('encrypted.key')} is encrypted; give an unencrypted key (openssl pkey -in <encrypted> -out <key>)`,
      ]);
    });

    it('an absolute path works as well as a relative one', async () => {
      server = await startTls(
        pki,
        `{ cert: '${pki.file('server.pem')}', key: '${pki.file('server.key')}' }`,
      );
      expect((await httpsGet(`${server.url}/health`, pki.caPem)).status).to.equal(200);
    });
  });
});
