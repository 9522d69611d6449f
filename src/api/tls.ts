import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { isIPv6 } from 'node:net';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { TlsConfig } from '../core/tls-config.js';
import { errorBody } from './errors.js';

/** A certificate that expires within this many days is warned about at startup and on reload. */
export const EXPIRY_WARNING_DAYS = 14;

/** Milliseconds between a change in a watched folder and the reload: lets a writer finish. */
const SETTLE_MS = 300;

/** Milliseconds between two polls when the folders cannot be watched (network filesystems). */
const POLL_MS = 2000;

/** Absolute paths of the PEM files of `server.tls`. */
export interface TlsFiles {
  /** Certificate (chain) file. */
  cert: string;
  /** Private key file. */
  key: string;
}

/** A checked certificate and key, ready for `https.createServer` / `setSecureContext`. */
export interface TlsMaterial {
  /** PEM certificate chain as read. */
  cert: Buffer;
  /** PEM private key as read. */
  key: Buffer;
  /** The leaf certificate, parsed. */
  x509: X509Certificate;
}

/** Resolves the configured file names against the config file's folder. */
export function tlsFiles(tls: TlsConfig, configDir: string): TlsFiles {
  return { cert: path.resolve(configDir, tls.cert), key: path.resolve(configDir, tls.key) };
}

/**
 * Checks a certificate and key as read from `files`: PEM, parseable, the key belongs to the
 * certificate, and OpenSSL accepts the pair. Returns the material, or problems naming key paths.
 */
export function checkTlsMaterial(
  cert: Buffer,
  key: Buffer,
  files: TlsFiles,
): TlsMaterial | string[] {
  const problems: string[] = [];
  let x509: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  // X509Certificate and createPrivateKey also take DER; a DER file here is a mistake worth naming.
  if (!cert.includes('-----BEGIN CERTIFICATE-----'))
    problems.push(
      `server.tls.cert: ${files.cert} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  else {
    try {
      x509 = new X509Certificate(cert);
    } catch (err) {
      problems.push(`server.tls.cert: ${files.cert}: invalid certificate: ${errorMessage(err)}`);
    }
  }
  const keyText = key.toString('latin1');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyText))
    problems.push(
      `server.tls.key: ${files.key} holds no PEM private key (-----BEGIN PRIVATE KEY-----)`,
    );
  else if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/.test(keyText))
    // OpenSSL's own error for this ("interrupted or cancelled") would not say what to do.
    problems.push(
      `server.tls.key: ${files.key} is encrypted; give an unencrypted key (openssl pkey -in <encrypted> -out <key>)`,
    );
  else {
    try {
      privateKey = createPrivateKey(key);
    } catch (err) {
      problems.push(`server.tls.key: ${files.key}: invalid private key: ${errorMessage(err)}`);
    }
  }
  if (x509 && privateKey && !x509.checkPrivateKey(privateKey))
    problems.push(
      `server.tls.key: ${files.key} does not match the certificate in ${files.cert} (server.tls.cert)`,
    );
  if (problems.length > 0 || !x509) return problems;
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    return [
      `server.tls: ${files.cert}, ${files.key}: not accepted by OpenSSL: ${errorMessage(err)}`,
    ];
  }
  return { cert, key, x509 };
}

/** Reads both files; a file that cannot be read is a problem naming its key path. */
function readTlsFiles(files: TlsFiles): { cert?: Buffer; key?: Buffer; problems: string[] } {
  const problems: string[] = [];
  const one = (name: keyof TlsFiles): Buffer | undefined => {
    try {
      return readFileSync(files[name]);
    } catch (err) {
      problems.push(`server.tls.${name}: cannot read ${files[name]}: ${errorMessage(err)}`);
      return undefined;
    }
  };
  return { cert: one('cert'), key: one('key'), problems };
}

/**
 * Reads and checks `server.tls` at startup, before any port is opened: every problem (missing,
 * unreadable, not PEM, key not matching, redirect port taken by the server) in one ConfigError.
 */
export function loadTls(tls: TlsConfig, configDir: string, port: number): TlsMaterial {
  const files = tlsFiles(tls, configDir);
  const { cert, key, problems } = readTlsFiles(files);
  if (tls.redirect_port !== 0 && tls.redirect_port === port)
    problems.push(`server.tls.redirect_port: must differ from server.port (${port})`);
  if (cert && key) {
    const checked = checkTlsMaterial(cert, key, files);
    if (Array.isArray(checked)) problems.push(...checked);
    else if (problems.length === 0) return checked;
  }
  throw new ConfigError(problems);
}

/** What a log line says about a certificate: subject, issuer, serial number and validity. */
export function describeCertificate(x509: X509Certificate): Record<string, string> {
  return {
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    serialNumber: x509.serialNumber,
    validTo: Number.isNaN(Date.parse(x509.validTo))
      ? x509.validTo
      : new Date(x509.validTo).toISOString(),
  };
}

/** Warns when the certificate has expired, expires within EXPIRY_WARNING_DAYS, or is not valid yet. */
export function warnIfExpiring(
  x509: X509Certificate,
  file: string,
  logger: Logger,
  now = Date.now(),
): void {
  const validTo = Date.parse(x509.validTo);
  const validFrom = Date.parse(x509.validFrom);
  const days = Math.floor((validTo - now) / 86_400_000);
  const fields = { file, ...describeCertificate(x509) };
  if (validTo <= now) logger.warn(fields, 'TLS certificate has expired: clients will refuse it');
  else if (days < EXPIRY_WARNING_DAYS)
    logger.warn({ ...fields, days }, `TLS certificate expires in ${days} days: renew it`);
  if (validFrom > now) logger.warn(fields, 'TLS certificate is not valid yet (check the clock)');
}

/**
 * Keeps the server's certificate current: watches the folders of the two files (a renewal tool
 * replaces them by rename, which a watch on the file itself would miss) and listens for SIGHUP.
 * A reload that fails is logged once per content and the old certificate stays in use.
 */
export class CertificateReloader {
  private readonly watchers: FSWatcher[] = [];
  private readonly polled: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Digest of the files last tried, so that unchanged content is not reloaded or warned about again. */
  private lastTried: string;
  /** Reloads run one after another: a SIGHUP during a watch-triggered reload waits for it. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onSighup = (): void => {
    void this.reload('SIGHUP', true);
  };
  private readonly onPoll = (): void => this.schedule();

  constructor(
    private readonly server: HttpsServer,
    private readonly files: TlsFiles,
    material: TlsMaterial,
    private readonly logger: Logger,
  ) {
    this.lastTried = digest(material.cert, material.key);
  }

  /** Starts watching the files and listening for SIGHUP. */
  start(): void {
    process.on('SIGHUP', this.onSighup);
    for (const dir of new Set([path.dirname(this.files.cert), path.dirname(this.files.key)])) {
      try {
        const watcher = watch(dir, () => this.schedule());
        watcher.on('error', (err) => {
          this.logger.warn({ err, dir }, 'cannot watch the TLS folder any more; polling instead');
          watcher.close();
          this.poll(dir);
        });
        this.watchers.push(watcher);
      } catch (err) {
        this.logger.warn({ err, dir }, 'cannot watch the TLS folder; polling it instead');
        this.poll(dir);
      }
    }
  }

  /**
   * Reads the files again and installs them if they changed (or if `force`); resolves when done.
   * Never rejects: a failure is a warning and the old certificate stays.
   */
  reload(reason: string, force = false): Promise<void> {
    // A reload that throws must neither stop later reloads nor become an unhandled rejection.
    this.queue = this.queue
      .then(() => this.tryReload(reason, force))
      .catch((err: unknown) => this.warn(reason, [`server.tls: ${errorMessage(err)}`]));
    return this.queue;
  }

  /** Stops watching and removes the SIGHUP listener; idempotent. */
  close(): void {
    this.closed = true;
    process.off('SIGHUP', this.onSighup);
    clearTimeout(this.timer);
    for (const watcher of this.watchers.splice(0)) watcher.close();
    for (const file of this.polled.splice(0)) unwatchFile(file, this.onPoll);
  }

  /** Polls the files of `dir` (stat every POLL_MS): the fallback where folder events do not work. */
  private poll(dir: string): void {
    if (this.closed) return;
    for (const file of [this.files.cert, this.files.key]) {
      if (path.dirname(file) !== dir || this.polled.includes(file)) continue;
      watchFile(file, { interval: POLL_MS }, this.onPoll);
      this.polled.push(file);
    }
  }

  /** One reload SETTLE_MS after the first event of a burst (a rename, a write in pieces). */
  private schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload('file change');
    }, SETTLE_MS);
  }

  private async tryReload(reason: string, force: boolean): Promise<void> {
    if (this.closed) return;
    const buffers: Partial<Record<keyof TlsFiles, Buffer>> = {};
    const problems: string[] = [];
    for (const name of ['cert', 'key'] as const) {
      try {
        buffers[name] = await readFile(this.files[name]);
      } catch (err) {
        problems.push(`server.tls.${name}: cannot read ${this.files[name]}: ${errorMessage(err)}`);
      }
    }
    if (this.closed) return;
    const { cert, key } = buffers;
    // A file missing during a replacement is retried on the next event, and warned about once.
    const now = cert && key ? digest(cert, key) : `unreadable: ${problems.join('; ')}`;
    if (now === this.lastTried && !force) return;
    this.lastTried = now;
    if (!cert || !key) {
      this.warn(reason, problems);
      return;
    }
    const checked = checkTlsMaterial(cert, key, this.files);
    if (Array.isArray(checked)) {
      this.warn(reason, checked);
      return;
    }
    try {
      this.server.setSecureContext({ cert, key });
    } catch (err) {
      this.warn(reason, [`server.tls: ${this.files.cert}: ${errorMessage(err)}`]);
      return;
    }
    this.logger.info(
      { reason, file: this.files.cert, ...describeCertificate(checked.x509) },
      'TLS certificate reloaded',
    );
    warnIfExpiring(checked.x509, this.files.cert, this.logger);
  }

  private warn(reason: string, problems: string[]): void {
    this.logger.warn(
      { reason, problems },
      `TLS certificate not reloaded, still serving the old one: ${problems.join('; ')}`,
    );
  }
}

function digest(cert: Buffer, key: Buffer): string {
  return createHash('sha256').update(cert).update('\0').update(key).digest('hex');
}

/** A DNS name or IPv4 address (letters, digits, '-', '_', dots), at most 253 characters. */
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/**
 * Where the redirect server sends a request: `https://<hostname from Host>:<httpsPort><path>`,
 * or undefined when the Host header is missing or is not a plain host name or IP address. Only
 * the host name is taken from the request, so a client cannot choose the scheme or the port.
 */
export function redirectLocation(
  host: string | undefined,
  target: string | undefined,
  httpsPort: number,
): string | undefined {
  if (!host) return undefined;
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d{0,5})?$/.exec(host);
  if (!match) return undefined;
  const hostname = match[1] as string;
  const valid = hostname.startsWith('[') ? isIPv6(hostname.slice(1, -1)) : HOSTNAME.test(hostname);
  if (!valid) return undefined;
  let pathAndQuery = '/';
  if (target?.startsWith('/')) pathAndQuery = target;
  else if (target) {
    // Absolute form (`GET http://host/path`), as sent to proxies: only its path is kept.
    try {
      const url = new URL(target);
      pathAndQuery = `${url.pathname}${url.search}`;
    } catch {
      pathAndQuery = '/';
    }
  }
  const port = httpsPort === 443 ? '' : `:${httpsPort}`;
  return `https://${hostname.toLowerCase()}${port}${pathAndQuery}`;
}

/**
 * The plain-HTTP listener of `server.tls.redirect_port`: 308 to the HTTPS port for every request
 * (method and body kept), 400 with a JSON error when the Host header is missing or invalid.
 */
export function createRedirectServer(httpsPort: () => number): Server {
  // Without a Host the handler answers (JSON 400) instead of Node's bare 400.
  return createServer({ requireHostHeader: false }, (req: IncomingMessage, res: ServerResponse) => {
    const location = redirectLocation(req.headers.host, req.url, httpsPort());
    if (!location) {
      const body = JSON.stringify(
        errorBody(`this port only redirects to HTTPS; the request needs a valid Host header`),
      );
      res.writeHead(400, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        Connection: 'close',
      });
      res.end(body);
      return;
    }
    res.writeHead(308, { Location: location, 'Content-Length': 0 });
    res.end();
  });
}

/** Everything TLS adds to a server: the HTTPS server's certificate, its reloader, the redirect listener. */
export class TlsRuntime {
  private server: HttpsServer | undefined;
  private reloader: CertificateReloader | undefined;
  private redirect: Server | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly tls: TlsConfig,
    private readonly files: TlsFiles,
    private readonly material: TlsMaterial,
    private readonly logger: Logger,
  ) {}

  /**
   * Reads and checks `server.tls` (ConfigError naming the key paths, before any port is opened)
   * and warns about a certificate that expires soon.
   */
  static load(tls: TlsConfig, configDir: string, port: number, logger: Logger): TlsRuntime {
    const material = loadTls(tls, configDir, port);
    const files = tlsFiles(tls, configDir);
    warnIfExpiring(material.x509, files.cert, logger);
    return new TlsRuntime(tls, files, material, logger);
  }

  /** The HTTPS server for `app` (WebSocket upgrades arrive on it as on an HTTP server). */
  createServer(app: RequestListener): HttpsServer {
    const { cert, key } = this.material;
    this.server = createHttpsServer({ cert, key }, app);
    this.reloader = new CertificateReloader(this.server, this.files, this.material, this.logger);
    return this.server;
  }

  /** Reloads the certificate now, as SIGHUP does; resolves when done, never rejects. */
  reload(): Promise<void> {
    return this.reloader?.reload('request', true) ?? Promise.resolve();
  }

  /** Starts the reloader and, if configured, the redirect listener on `host`. */
  async start(host: string): Promise<void> {
    this.reloader?.start();
    if (this.tls.redirect_port === 0) return;
    const redirect = createRedirectServer(() => this.httpsPort());
    this.redirect = redirect;
    await new Promise<void>((resolve, reject) => {
      redirect.once('error', (err) =>
        reject(
          new Error(
            `cannot listen on ${host}:${this.tls.redirect_port} (server.tls.redirect_port): ${errorMessage(err)}`,
          ),
        ),
      );
      redirect.listen(this.tls.redirect_port, host, () => resolve());
    });
    // A later listener error must be a log line, never an uncaught exception.
    redirect.on('error', (err) => this.logger.warn({ err }, 'HTTP redirect listener error'));
    this.logger.info(
      { port: this.tls.redirect_port, to: this.httpsPort() },
      'redirecting plain HTTP to HTTPS',
    );
  }

  /** Stops the reloader (watchers, SIGHUP listener) and closes the redirect listener; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private httpsPort(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  private async shutdown(): Promise<void> {
    this.reloader?.close();
    const redirect = this.redirect;
    if (redirect?.listening) {
      const closed = new Promise<void>((resolve) => redirect.close(() => resolve()));
      redirect.closeAllConnections();
      await closed;
    }
  }
}
