import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { pythonHas, readRecording } from '../helpers/recording-readers.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';

interface Recording {
  id: string;
  detectorName: string;
  format: string;
  file: string;
  state: string;
  startedAt: string;
  framesWritten: number;
  framesDropped: number;
  bytes: number;
  durationS: number;
  stopReason?: string;
  error?: string;
  url: string;
}

function yamlFor(dir: string, extra = ''): string {
  return `
detectors:
  Camera:
    type: mock
    options: { width: 160, height: 120, fps: 30, dtype: uint16, pattern: noise }
  Slow:
    type: mock
    options: { width: 160, height: 120, fault: stall }
recordings:
  dir: ${JSON.stringify(dir)}
${extra}`;
}

describe('recordings API: start, list, stop, download, delete', function () {
  this.timeout(60_000);
  let dir: string;
  let server: LiveViewServer;
  let base: string;

  const start = async (body: Record<string, unknown>) =>
    postJson(`${base}/liveview/recordings`, body);
  const get = async (id: string): Promise<Recording> =>
    (await getJson(`${base}/liveview/recordings/${id}`)).json.recording as Recording;
  const stop = async (id: string): Promise<Recording> => {
    const res = await postJson(`${base}/liveview/recordings/${id}/stop`, {});
    expect(res.status, JSON.stringify(res.json)).to.equal(200);
    return res.json.recording as Recording;
  };
  const recordFrames = async (
    body: Record<string, unknown>,
    frames: number,
  ): Promise<Recording> => {
    const res = await start(body);
    expect(res.status, JSON.stringify(res.json)).to.equal(201);
    const rec = res.json.recording as Recording;
    await waitFor(async () => (await get(rec.id)).framesWritten >= frames, 10_000);
    return stop(rec.id);
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'liveview-recordings-'));
    server = await startTestServer(yamlFor(dir));
    base = server.url;
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the formats of the plugins and the protocols', async () => {
    const { json } = await getJson(`${base}/liveview/recordings/formats`);
    const names = (json.formats as { name: string }[]).map((f) => f.name);
    expect(names).to.include.members(['ome-tiff', 'ome-zarr']);
  });

  it('records OME-TIFF at the full rate, lists it, stops it and serves the file with Range', async function () {
    const res = await start({ detectorName: 'Camera', format: 'ome-tiff', name: 'run-1' });
    expect(res.status, JSON.stringify(res.json)).to.equal(201);
    const rec = res.json.recording as Recording;
    expect(rec).to.include({ detectorName: 'Camera', format: 'ome-tiff', state: 'recording' });
    expect(rec.file).to.match(/^run-1_\d{8}T\d{6}Z\.ome\.tif$/);
    expect(rec.url).to.equal(`/liveview/recordings/${rec.id}/file`);
    const listed = (await getJson(`${base}/liveview/recordings`)).json.recordings as Recording[];
    expect(listed.map((r) => r.id)).to.include(rec.id);
    // Not downloadable while it is written.
    const busy = await fetch(`${base}${rec.url}`);
    expect(busy.status).to.equal(409);
    expect(((await busy.json()) as { message: string }).message).to.include('stop it first');

    await waitFor(async () => (await get(rec.id)).framesWritten >= 20, 10_000);
    const done = await stop(rec.id);
    expect(done.state).to.equal('finished');
    expect(done.stopReason).to.equal('requested');
    expect(done.framesWritten).to.be.at.least(20);
    expect(done.durationS).to.be.greaterThan(0.3);
    expect(done.bytes).to.be.greaterThan(done.framesWritten * 160 * 120 * 2);

    const file = await fetch(`${base}${rec.url}`);
    expect(file.status).to.equal(200);
    expect(file.headers.get('content-disposition')).to.equal(`attachment; filename=${rec.file}`);
    expect(file.headers.get('accept-ranges')).to.equal('bytes');
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.length).to.equal(done.bytes);
    const part = await fetch(`${base}${rec.url}`, { headers: { Range: 'bytes=0-3' } });
    expect(part.status).to.equal(206);
    expect(Buffer.from(await part.arrayBuffer())).to.deep.equal(bytes.subarray(0, 4));

    if (!pythonHas('tifffile')) this.skip();
    const saved = path.join(dir, 'download.ome.tif');
    writeFileSync(saved, bytes);
    const report = await readRecording('tiff', saved);
    expect(report.is_ome).to.equal(true);
    expect(report.pages).to.equal(done.framesWritten);
    rmSync(saved);
  });

  it('records OME-Zarr and downloads it as a zip that zarr opens', async function () {
    const done = await recordFrames({ format: 'ome-zarr', name: 'zarr-run' }, 10);
    expect(done.state).to.equal('finished');
    expect(done.file).to.match(/\.ome\.zarr$/);
    const file = await fetch(`${base}${done.url}`);
    expect(file.status).to.equal(200);
    expect(file.headers.get('content-type')).to.equal('application/zip');
    expect(file.headers.get('content-disposition')).to.equal(
      `attachment; filename=${done.file}.zip`,
    );
    const zip = Buffer.from(await file.arrayBuffer());
    expect(zip.length).to.equal(Number(file.headers.get('content-length')));
    if (!pythonHas('zarr')) this.skip();
    const saved = path.join(tmpdir(), `liveview-${done.id}.zip`);
    writeFileSync(saved, zip);
    try {
      const report = await readRecording('zarr-zip', saved);
      expect((report.shape as number[])[0]).to.equal(done.framesWritten);
      expect(report.hashes).to.have.length(done.framesWritten);
    } finally {
      rmSync(saved, { force: true });
    }
  });

  it('records every frame the detector delivers, not the stream throttle, and leaves the stream alone', async () => {
    const reader = await new MultipartReader().connect(
      `${base}/liveview/mjpeg?detectorName=Camera`,
    );
    await reader.waitForParts(1);
    const streamed = server.controller.findStream('Camera', 'mjpeg')!;
    server.controller.setStreamParams('mjpeg', { throttle_ms: 200 });
    try {
      const source = server.controller.detectors.source('Camera');
      const before = source.framesReceived;
      const deliveredBefore = streamed.framesEncoded;
      const done = await recordFrames({ format: 'ome-tiff' }, 30);
      const received = source.framesReceived - before;
      // The throttled stream encoded about 5 per second; the recording took them all.
      expect(done.framesWritten + done.framesDropped).to.be.at.least(received - 2);
      expect(done.framesWritten).to.be.greaterThan(3 * (streamed.framesEncoded - deliveredBefore));
      // The stream still delivers.
      await reader.waitForParts(reader.parts.length + 1);
    } finally {
      server.controller.setStreamParams('mjpeg', { throttle_ms: 0 });
      reader.close();
    }
  });

  it('stops by itself at max_duration_s and max_bytes', async () => {
    const res = await start({ format: 'ome-tiff', max_duration_s: 1 });
    const rec = res.json.recording as Recording;
    await waitFor(async () => (await get(rec.id)).state === 'finished', 5000);
    const done = await get(rec.id);
    expect(done.stopReason).to.equal('max_duration');
    expect(done.durationS).to.be.within(0.5, 1.5);

    const limited = await start({ format: 'ome-tiff', max_bytes: 500_000 });
    const id = (limited.json.recording as Recording).id;
    await waitFor(async () => (await get(id)).state === 'finished', 5000);
    const small = await get(id);
    expect(small.stopReason).to.equal('max_bytes');
    // Checked four times a second: at most a few frames beyond the limit.
    expect(small.bytes).to.be.within(500_000, 500_000 + 10 * 160 * 120 * 2);
  });

  it('answers bad requests with a clear message and changes nothing', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ format: 'avi' }, 400, /unknown recording format 'avi' \(known formats: .*ome-tiff/],
      [{ format: 'ome-tiff', detectorName: 'Nope' }, 404, /unknown detector 'Nope'/],
      [{ format: 'ome-tiff', name: '../../etc/passwd' }, 400, /not a valid recording name/],
      [{ format: 'ome-tiff', max_duration_s: -1 }, 400, /max_duration_s/],
      [{ format: 'ome-tiff', params: { compression: 'x' } }, 400, /compression/],
      [{ format: 'ome-tiff', params: { pixel_size_um: 'big' } }, 400, /pixel_size_um/],
      [{}, 400, /format/],
    ];
    const countBefore = ((await getJson(`${base}/liveview/recordings`)).json.recordings as [])
      .length;
    for (const [body, status, message] of cases) {
      const res = await start(body);
      expect(res.status, JSON.stringify(body)).to.equal(status);
      expect(res.json.status).to.equal('error');
      expect(res.json.message as string).to.match(message);
    }
    const countAfter = ((await getJson(`${base}/liveview/recordings`)).json.recordings as [])
      .length;
    expect(countAfter).to.equal(countBefore);
    for (const url of ['/liveview/recordings/nope', '/liveview/recordings/nope/file']) {
      const res = await fetch(`${base}${url}`);
      expect(res.status, url).to.equal(404);
    }
  });

  it('reports a recording that got no frame as failed and leaves no broken file', async () => {
    const res = await start({ detectorName: 'Slow', format: 'ome-tiff', name: 'empty' });
    const rec = res.json.recording as Recording;
    const done = await stop(rec.id);
    expect(done.state).to.equal('error');
    expect(done.error).to.include('no frame was recorded');
    expect(() => readFileSync(path.join(dir, done.file))).to.throw(/ENOENT/);
    expect((await fetch(`${base}${done.url}`)).status).to.equal(404);
  });

  it('deletes a recording and its file', async () => {
    const done = await recordFrames({ format: 'ome-tiff', name: 'to-delete' }, 3);
    const where = path.join(dir, done.file);
    expect(readFileSync(where).length).to.be.greaterThan(0);
    const res = await fetch(`${base}/liveview/recordings/${done.id}`, { method: 'DELETE' });
    expect(res.status).to.equal(200);
    expect(() => readFileSync(where)).to.throw(/ENOENT/);
    expect((await fetch(`${base}/liveview/recordings/${done.id}`)).status).to.equal(404);
  });
});

describe('recordings: the list survives a restart, retention deletes the oldest', function () {
  this.timeout(60_000);
  let dir: string;
  let server: LiveViewServer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'liveview-recordings-'));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const record = async (s: LiveViewServer, frames: number): Promise<Recording> => {
    const res = await postJson(`${s.url}/liveview/recordings`, { format: 'ome-tiff' });
    const id = (res.json.recording as Recording).id;
    await waitFor(
      async () =>
        ((await getJson(`${s.url}/liveview/recordings/${id}`)).json.recording as Recording)
          .framesWritten >= frames,
      10_000,
    );
    return (await postJson(`${s.url}/liveview/recordings/${id}/stop`, {})).json
      .recording as Recording;
  };

  it('lists finished recordings after a restart, and one cut short by a crash as failed', async () => {
    server = await startTestServer(yamlFor(dir));
    const done = await record(server, 5);
    await server.stop();
    // A crash in the middle of a recording leaves its entry in state recording.
    const indexFile = path.join(dir, '.recordings.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as Recording[];
    index.push({ ...done, id: 'crashed', file: done.file, state: 'recording' });
    writeFileSync(indexFile, JSON.stringify(index));

    server = await startTestServer(yamlFor(dir));
    const list = (await getJson(`${server.url}/liveview/recordings`)).json
      .recordings as Recording[];
    const again = list.find((r) => r.id === done.id);
    expect(again).to.include({
      state: 'finished',
      framesWritten: done.framesWritten,
      file: done.file,
    });
    const crashed = list.find((r) => r.id === 'crashed');
    expect(crashed?.state).to.equal('error');
    expect(crashed?.error).to.include('the server stopped while this recording ran');
    expect((await fetch(`${server.url}${again!.url}`)).status).to.equal(200);
  });

  it('deletes the oldest finished recordings beyond max_total_bytes', async () => {
    server = await startTestServer(yamlFor(dir, '  retention: { max_total_bytes: 1000000 }'));
    const first = await record(server, 20); // about 770 kB
    const second = await record(server, 20);
    const ids = (
      (await getJson(`${server.url}/liveview/recordings`)).json.recordings as Recording[]
    ).map((r) => r.id);
    expect(ids).to.include(second.id);
    expect(ids).to.not.include(first.id);
    expect(() => readFileSync(path.join(dir, first.file))).to.throw(/ENOENT/);
  });
});

describe('recordings: a full disk', function () {
  this.timeout(60_000);
  let dir: string;
  let mounted = false;
  let server: LiveViewServer | undefined;

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'liveview-full-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
      mounted = true;
    } catch {
      this.skip(); // mounting needs root
    }
  });
  after(async () => {
    await server?.stop();
    if (mounted) execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends the recording in state error with a clear message, a readable file, and the streams running', async function () {
    server = await startTestServer(yamlFor(dir));
    const base = server.url;
    const reader = await new MultipartReader().connect(
      `${base}/liveview/mjpeg?detectorName=Camera`,
    );
    await reader.waitForParts(1);
    try {
      const res = await postJson(`${base}/liveview/recordings`, { format: 'ome-tiff' });
      expect(res.status).to.equal(201);
      const id = (res.json.recording as Recording).id;
      let rec: Recording | undefined;
      await waitFor(async () => {
        rec = (await getJson(`${base}/liveview/recordings/${id}`)).json.recording as Recording;
        return rec.state === 'error';
      }, 15_000);
      expect(rec!.error).to.match(/no space left|ENOSPC/i);
      expect(rec!.framesWritten).to.be.greaterThan(0);
      // The stream did not notice.
      await reader.waitForParts(reader.parts.length + 5);
      expect((await getJson(`${base}/health`)).json.status).to.equal('ok');
      if (!pythonHas('tifffile')) this.skip();
      const report = await readRecording('tiff', path.join(dir, rec!.file));
      expect(report.pages).to.be.at.least(1);
      expect(report.hashes).to.have.length(report.pages as number);
    } finally {
      reader.close();
    }
  });
});
