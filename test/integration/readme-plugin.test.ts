import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type LiveViewServer } from '../../src/api/server.js';
import { decodeJpeg } from '../helpers/jpeg.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { getJson } from '../helpers/server.js';

/** The README, read from the source tree (tests run from dist/test/integration). */
const README = new URL('../../../README.md', import.meta.url);

/** The first fenced block of a language after a heading, exactly as the README shows it. */
function fencedBlock(markdown: string, heading: string, language: string): string {
  const section = markdown.slice(markdown.indexOf(heading));
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)\\n```').exec(section);
  if (!match) throw new Error(`no ${language} block after '${heading}' in README.md`);
  return match[1] as string;
}

describe("the README's plugin example, verbatim", function () {
  this.timeout(20_000);
  let dir: string;
  let server: LiveViewServer | undefined;
  const reader = new MultipartReader();

  before(async () => {
    const markdown = await readFile(README, 'utf8');
    const plugin = fencedBlock(markdown, '## Writing a detector plugin', 'js');
    const yaml = fencedBlock(markdown, '## Writing a detector plugin', 'yaml');
    dir = await mkdtemp(path.join(tmpdir(), 'liveview-readme-'));
    await mkdir(path.join(dir, 'acme'));
    await writeFile(path.join(dir, 'acme', 'index.js'), plugin);
    server = await startServer({
      configText: yaml,
      configDir: dir,
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
    });
  });
  after(async () => {
    reader.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads from the YAML beside it and lists its detector', async () => {
    const { json } = await getJson(`${server!.url}/liveview/detectors/Bench`);
    expect(json.detector).to.deep.include({ name: 'Bench', type: 'acme', state: 'idle' });
    expect((json.detector as { parameters: unknown }).parameters).to.deep.equal({ fps: 20 });
  });

  it('streams its frames over MJPEG', async () => {
    await reader.connect(`${server!.url}/liveview/mjpeg?detectorName=Bench`);
    await reader.waitForParts(3);
    const image = await decodeJpeg(reader.parts[2]!.body);
    expect([image.width, image.height]).to.deep.equal([320, 240]);
    const numbers = reader.parts.slice(0, 3).map((p) => Number(p.headers['x-frame-number']));
    expect(numbers[2]).to.be.greaterThan(numbers[0] as number);
  });
});
