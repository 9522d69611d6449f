import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';

/** Plugins of Debian's janus package other than the Streaming plugin: all disabled. */
const OTHER_PLUGINS = [
  'audiobridge',
  'duktape',
  'echotest',
  'lua',
  'nosip',
  'recordplay',
  'sip',
  'textroom',
  'videocall',
  'videoroom',
  'voicemail',
].map((p) => `libjanus_${p}.so`);
/** Transports other than HTTP: all disabled. */
const OTHER_TRANSPORTS = ['websockets', 'mqtt', 'nanomsg', 'pfunix', 'rabbitmq'].map(
  (t) => `libjanus_${t}.so`,
);

let available: boolean | undefined;

/** True if a `janus` binary (Debian's janus, 1.1.x) runs. */
export function janusAvailable(): boolean {
  available ??=
    spawnSync('janus', ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout?.includes(
      'Janus version',
    ) === true;
  return available;
}

/**
 * The address Janus gathers ICE candidates on: Janus never uses loopback for ICE, so a viewer on
 * this machine reaches it on the machine's own first IPv4 address (the packets stay in the
 * kernel). Undefined if the machine has none.
 */
export function janusIceAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * One Janus instance for a test: a config generated in a temporary folder (HTTP transport on a
 * loopback port, the Streaming plugin with its own RTP port range, every other plugin and
 * transport disabled, ICE on one address), started, killed and started again on the same ports.
 */
export class JanusServer {
  /** The HTTP API root. */
  readonly url: string;
  /** Its log (stdout and stderr). */
  log = '';
  private readonly dir: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly httpPort: number,
    /** First port of the Streaming plugin's range (40 ports). */
    readonly rtpBase: number,
    iceAddress: string,
    adminKey?: string,
  ) {
    this.url = `http://127.0.0.1:${httpPort}/janus`;
    this.dir = mkdtempSync(path.join(tmpdir(), 'liveview-janus-'));
    const file = (name: string, text: string) => writeFileSync(path.join(this.dir, name), text);
    file(
      'janus.jcfg',
      `general: { configs_folder = "${this.dir}", debug_level = 4, session_timeout = 60, server_name = "test-${httpPort}" }
media: { ipv6 = false, rtp_port_range = "${rtpBase + 20}-${rtpBase + 39}" }
nat: { ice_enforce_list = "${iceAddress}", ignore_mdns = true, nice_debug = false }
plugins: { disable = "${OTHER_PLUGINS.join(',')}" }
transports: { disable = "${OTHER_TRANSPORTS.join(',')}" }
events: { broadcast = false }
loggers: { disable = "libjanus_jsonlog.so" }
`,
    );
    file(
      'janus.transport.http.jcfg',
      `general: { json = "compact", base_path = "/janus", http = true, port = ${httpPort}, ip = "127.0.0.1", https = false }
admin: { admin_http = false }
`,
    );
    file(
      'janus.plugin.streaming.jcfg',
      `general: { rtp_port_range = "${rtpBase}-${rtpBase + 19}", events = false${
        adminKey ? `, admin_key = "${adminKey}"` : ''
      } }
`,
    );
  }

  /**
   * Creates and starts an instance; resolves once its HTTP API answers. With `adminKey`, the
   * Streaming plugin creates mountpoints only for requests that give it.
   */
  static async start(iceAddress: string, adminKey?: string): Promise<JanusServer> {
    const httpPort = await freePort();
    // Ports for RTP away from the ephemeral range (32768+ on Linux); a clash is unlikely.
    const rtpBase = 20_000 + Math.floor(Math.random() * 500) * 40;
    const server = new JanusServer(httpPort, rtpBase, iceAddress, adminKey);
    await server.start();
    return server;
  }

  /** Starts the process (again); resolves once the HTTP API answers. */
  async start(): Promise<void> {
    const child = spawn('janus', ['-F', this.dir, '-C', path.join(this.dir, 'janus.jcfg'), '-o'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20_000)));
    child.stderr?.on('data', (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20_000)));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const end = Date.now() + 10_000;
    for (;;) {
      try {
        const res = await fetch(`${this.url}/info`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null || Date.now() > end) {
        throw new Error(`janus did not start: ${this.log.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills the process at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and removes its config. */
  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
