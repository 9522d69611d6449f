import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { startServer, type LiveViewServer } from '../../src/api/server.js';
import { ConfigError } from '../../src/core/errors.js';
import { BinaryClient } from '../helpers/binary-client.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { FIXTURES_DIR, getJson, postJson, waitFor } from '../helpers/server.js';

/** One parsed pino line. */
type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A real pino logger writing JSON lines into memory. */
function memoryLogger() {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const lines = (): LogLine[] =>
    text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as LogLine);
  return { logger, lines, errors: () => lines().filter((l) => l.level === 50) };
}

/** Starts a server on a free port from YAML with plugins under test/fixtures. */
function start(yaml: string, logger = memoryLogger().logger): Promise<LiveViewServer> {
  return startServer({
    configText: yaml,
    configDir: FIXTURES_DIR,
    port: 0,
    host: '127.0.0.1',
    logger,
  });
}

/** The rejection of a start that must fail. */
async function startFailure(yaml: string): Promise<Error> {
  return start(yaml).then(
    async (server) => {
      await server.stop();
      throw new Error('the server started');
    },
    (e: unknown) => e as Error,
  );
}

describe('plugin hooks and plugin modules', function () {
  this.timeout(20_000);

  describe('a protocol whose attach throws and whose close rejects', () => {
    const log = memoryLogger();
    let server: LiveViewServer;
    const readers: MultipartReader[] = [];
    const clients: BinaryClient[] = [];

    before(async () => {
      server = await start(
        `
plugins: [./plugins/faulty-protocol]
detectors:
  Camera: { type: mock, options: { width: 160, height: 120, fps: 30 } }
protocols:
  mjpeg: { throttle_ms: 0 }
`,
        log.logger,
      );
    });
    after(async () => {
      for (const r of readers) r.close();
      await Promise.all(clients.map((c) => c.close()));
      await server?.stop();
    });

    it('starts, logging an error that names the plugin, the protocol and attach', () => {
      const lines = log.errors().filter((l) => l.hook === 'attach');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ plugin: 'faulty-plugin', protocol: 'faulty', hook: 'attach' });
      expect(lines[0].err).to.equal('attach exploded');
      expect(lines[0].msg)
        .to.include("plugin 'faulty-plugin'")
        .and.include("protocol 'faulty'")
        .and.include('attach')
        .and.include('attach exploded');
    });

    it('the other protocols still stream (MJPEG parts, binary frames)', async () => {
      const reader = new MultipartReader();
      readers.push(reader);
      await reader.connect(`${server.url}/liveview/mjpeg?detectorName=Camera`);
      expect(reader.status).to.equal(200);
      await reader.waitForParts(3);
      const client = new BinaryClient();
      clients.push(client);
      await client.connect(`${server.url.replace('http', 'ws')}/liveview/binary`);
      await waitFor(() => client.frames.length >= 2, 5000);
    });

    it('stop() resolves and logs the close failure with the plugin name', async () => {
      for (const r of readers) r.close();
      await server.stop();
      const lines = log.errors().filter((l) => l.hook === 'close');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ plugin: 'faulty-plugin', protocol: 'faulty', hook: 'close' });
      expect(lines[0].msg).to.include("plugin 'faulty-plugin'").and.include('close exploded');
      expect(log.lines().at(-1)?.msg).to.equal('stopped');
    });
  });

  describe('a protocol whose registerRoutes throws', () => {
    const log = memoryLogger();
    let server: LiveViewServer;

    before(async () => {
      server = await start(
        `
plugins: [./plugins/faulty-routes-protocol]
detectors:
  Camera: { type: mock, options: { width: 160, height: 120, fps: 30 } }
`,
        log.logger,
      );
    });
    after(async () => {
      await server?.stop();
    });

    it('starts and logs the plugin, the protocol and registerRoutes', () => {
      const lines = log.errors().filter((l) => l.hook === 'registerRoutes');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({
        plugin: 'faulty-routes-plugin',
        protocol: 'faulty-routes',
        err: 'routes exploded',
      });
      expect(lines[0].msg)
        .to.include("plugin 'faulty-routes-plugin'")
        .and.include('registerRoutes');
    });

    it('the REST API and the other protocols work', async () => {
      const detectors = await getJson(`${server.url}/liveview/detectors`);
      expect(detectors.status).to.equal(200);
      const started = await postJson(`${server.url}/liveview/startLiveView`, {
        detectorName: 'Camera',
        protocol: 'mjpeg',
      });
      expect(started.status).to.equal(200);
      expect(started.json).to.include({ status: 'success' });
      const streams = await getJson(`${server.url}/liveview/getActiveStreams`);
      expect((streams.json.streams as unknown[]).length).to.equal(1);
      const snapshot = await fetch(`${server.url}/liveview/snapshot.jpg`);
      expect(snapshot.status).to.equal(200);
      await snapshot.arrayBuffer();
      const missing = await getJson(`${server.url}/liveview/faulty-routes`);
      expect(missing.status).to.equal(404);
      await postJson(`${server.url}/liveview/stopLiveView`, { detectorName: 'Camera' });
    });
  });

  describe('detector plugins with async and expression-bodied ContainerModules', () => {
    let server: LiveViewServer;
    const clients: BinaryClient[] = [];

    before(async () => {
      server = await start(`
plugins:
  - ./plugins/async-module-plugin
  - ./plugins/async-module-plugin/arrow.js
detectors:
  Async: { type: tick-async }
  Arrow: { type: tick-arrow }
protocols:
  binary: { throttle_ms: 0 }
`);
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await server?.stop();
    });

    for (const [name, type] of [
      ['Async', 'tick-async'],
      ['Arrow', 'tick-arrow'],
    ]) {
      it(`loads the ${type} plugin and streams its frames`, async () => {
        const { json } = await getJson(`${server.url}/liveview/detectors`);
        const listed = (json.detectors as { name: string; type: string }[]).find(
          (d) => d.name === name,
        );
        expect(listed).to.deep.include({ name, type });
        const client = new BinaryClient();
        clients.push(client);
        await client.connect(
          `${server.url.replace('http', 'ws')}/liveview/binary?detectorName=${name}`,
        );
        await waitFor(() => client.frames.length >= 3, 5000);
        const frame = client.frames[0];
        expect([frame.width, frame.height]).to.deep.equal([64, 48]);
        expect(frame.pixels[0]).to.equal(frame.frameNumber & 0xff);
      });
    }
  });

  describe('plugins that fail while loading', () => {
    it('a ContainerModule that throws: ConfigError naming the plugin and telling to fix it', async () => {
      const err = await startFailure(`
plugins: [./plugins/throwing-module-plugin]
detectors:
  Camera: { type: mock }
`);
      expect(err).to.be.instanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).to.have.length(1);
      expect(problems[0])
        .to.include("plugin 'throwing-module'")
        .and.include('bind exploded')
        .and.include("fix the plugin's module");
    });

    it('a parseOptions that throws a plain Error keeps the key path: detectors.<Name>.options', async () => {
      const err = await startFailure(`
plugins: [./plugins/strict-options-detector]
detectors:
  Cam: { type: strict, options: { gain: 2 } }
`);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).problems).to.deep.equal([
        'detectors.Cam.options: serial is required',
      ]);
    });
  });
});
