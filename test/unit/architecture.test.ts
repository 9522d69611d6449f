import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The source tree (tests run from dist/test/unit). */
const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/** Every .ts file under a folder, as paths relative to src/. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [path.relative(SRC, full)] : [];
  });
}

/** The relative modules a file imports (static, type-only, re-exports and dynamic), as src/ paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:import|export)\s[^'";]*?from\s+'([^']+)'/g),
    ...text.matchAll(/import\s+'([^']+)'/g),
    ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1] as string);
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => path.normalize(path.join(path.dirname(file), s.replace(/\.js$/, '.ts'))));
}

const files = sourceFiles();
const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Everything a file reaches through its imports. */
function reach(start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length > 0) {
    const f = todo.pop() as string;
    for (const next of graph.get(f) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}

describe('architecture', () => {
  it('finds the source tree and its imports (the checks below are not vacuous)', () => {
    expect(files).to.include('index.ts');
    expect(graph.get('api/server.ts')).to.include('core/controller.ts');
  });

  it('src/core has no import cycles, type imports included', () => {
    const core = files.filter((f) => f.startsWith('core/'));
    const cycles = core.filter((f) => reach(f).has(f));
    expect(cycles, `files on an import cycle: ${cycles.join(', ')}`).to.deep.equal([]);
  });

  it('the plugin SDK entry does not reach the server, the API or the CLI', () => {
    const reached = [...reach('index.ts')];
    const server = reached.filter(
      (f) => f.startsWith('api/') || ['server.ts', 'cli.ts', 'device-commands.ts'].includes(f),
    );
    expect(server).to.deep.equal([]);
  });

  it('built-in plugins, protocols and recording formats import liveview only through the SDK entry', () => {
    // A plugin's own folder: plugins/<name>/, protocols/<name>/, recording/.
    const home = (f: string): string =>
      f.startsWith('recording/') ? 'recording/' : f.split('/').slice(0, 2).join('/') + '/';
    const offenders = files
      .filter(
        (f) => f.startsWith('plugins/') || f.startsWith('protocols/') || f.startsWith('recording/'),
      )
      .flatMap((f) =>
        (graph.get(f) ?? [])
          .filter((i) => !i.startsWith(home(f)))
          .filter((i) => i !== 'index.ts')
          .map((i) => `${f} imports ${i}`),
      );
    expect(offenders).to.deep.equal([]);
  });

  it('protocols never downcast workers or sessions', () => {
    const casts = files
      .filter((f) => f.startsWith('protocols/'))
      .flatMap((f) =>
        [
          ...readFileSync(path.join(SRC, f), 'utf8').matchAll(
            /\bas\s+(\w*(Worker|Session|Viewer)\b[^;,)]*|ReadonlySet<[^>]+>)/g,
          ),
        ].map((m) => `${f}: as ${m[1]}`),
      );
    expect(casts).to.deep.equal([]);
  });
});
