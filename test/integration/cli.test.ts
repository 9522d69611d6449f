import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { MultipartReader } from '../helpers/multipart-reader.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], timeoutMs = 10_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`liveview ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('liveview command', function () {
  this.timeout(20_000);
  let dir: string;
  const children: ChildProcess[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'liveview-cli-'));
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('--help prints the usage', async () => {
    const r = await run(['--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^Usage: liveview \[options\]/);
    for (const flag of ['--config', '--port', '--host', '--help', '--version']) {
      expect(r.stdout).to.include(flag);
    }
  });

  it('devices asks every detector type that can discover, through its provider, in its own words', async () => {
    const config = path.join(dir, 'devices.yaml');
    const fixtures = fileURLToPath(new URL('../../../test/fixtures/plugins/', import.meta.url));
    await writeFile(config, `plugins: [${path.join(fixtures, 'ramp-detector')}]\n`);
    const r = await run(['devices', '--config', config, '--type', 'ramp', '--timeout', '250']);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal('# ramp\nR-1: Acme Ramp (waited 250 ms)\n');
    const unknown = await run(['devices', '--type', 'nope']);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/unknown detector type 'nope' \(known types: .*genicam.*\)/);
    const wrong = await run(['devices', '--address', '127.0.0.1']);
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.include("unknown option '--address'");
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(PACKAGE_JSON, 'utf8')) as { version: string };
    const r = await run(['--version']);
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.equal(pkg.version);
  });

  it('an unknown flag exits 1 with the usage', async () => {
    const r = await run(['--colour']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("Unknown option '--colour'");
    expect(r.stderr).to.include('Usage: liveview');
  });

  it('a config error exits 1 with the key path before opening a port', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'detectors:\n  Camera:\n    type: mock\n    options: { width: 0 }\n');
    const r = await run(['--config', file, '--port', '0', '--host', '127.0.0.1']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(
      'detectors.Camera.options.width: must be an integer between 1 and 16384',
    );
    expect(r.stdout).to.not.include('listening');
    expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace
  });

  it('a missing config file exits 1 with a clear message', async () => {
    const r = await run(['--config', path.join(dir, 'none.yaml')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/cannot read config file .*none\.yaml: ENOENT/);
  });

  it('a bad --port exits 1', async () => {
    const r = await run(['--port', 'http']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("--port: must be an integer between 0 and 65535, got 'http'");
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops cleanly on ${signal} within 5 s with a client connected`, async () => {
      const file = path.join(dir, 'ok.yaml');
      await writeFile(
        file,
        'logging: { level: info }\ndetectors:\n  Camera: { type: mock, options: { width: 320, height: 240 } }\n',
      );
      const child = spawn(process.execPath, [CLI, '-c', file, '-p', '0', '--host', '127.0.0.1'], {
        stdio: 'pipe',
      });
      children.push(child);
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /"url":"(http:[^"]+)"/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const reader = new MultipartReader();
      await reader.connect(`${url}/liveview/mjpeg?detectorName=Camera`);
      await reader.waitForParts(2);
      const t0 = Date.now();
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => resolve(code)),
      );
      child.kill(signal);
      const code = await exited;
      expect(code).to.equal(0);
      expect(Date.now() - t0).to.be.lessThan(5000);
      expect(reader.ended || reader.error !== undefined).to.equal(true);
      reader.close();
    });
  }
});
