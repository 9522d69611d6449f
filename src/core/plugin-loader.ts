import { createRequire, register } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, errorMessage } from './errors.js';
import { OLDEST_PLUGIN_API_VERSION, PLUGIN_API_VERSION, type LiveViewPlugin } from './plugin.js';

/** A plugin module that was imported and checked. */
export interface LoadedPlugin {
  /** What the config (or the built-in list) named. */
  specifier: string;
  /** The module's default export. */
  plugin: LiveViewPlugin;
}

/** Built-in plugins, loaded exactly like third-party ones. */
export const BUILTIN_PLUGINS: readonly string[] = [
  new URL('../plugins/mock/index.js', import.meta.url).href,
  new URL('../plugins/v4l2/index.js', import.meta.url).href,
  new URL('../plugins/genicam/index.js', import.meta.url).href,
  new URL('../protocols/mjpeg/index.js', import.meta.url).href,
  new URL('../protocols/binary/index.js', import.meta.url).href,
  new URL('../protocols/webrtc/index.js', import.meta.url).href,
  new URL('../recording/index.js', import.meta.url).href,
];

let hooksRegistered = false;

/** Makes `import 'liveview'` in third-party plugins resolve to this liveview (once per process). */
function registerPluginHooks(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  register(new URL('./plugin-hooks.js', import.meta.url), {
    data: { entry: new URL('../index.js', import.meta.url).href },
  });
}

function isPathLike(specifier: string): boolean {
  return specifier.startsWith('.') || path.isAbsolute(specifier);
}

/** Resolves a plugin folder the way Node resolves a package folder: package.json main, then index.js. */
function resolveFolder(dir: string): string {
  const pkgFile = path.join(dir, 'package.json');
  if (existsSync(pkgFile)) {
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
      main?: string;
      exports?: unknown;
    };
    const exported =
      typeof pkg.exports === 'string'
        ? pkg.exports
        : typeof (pkg.exports as Record<string, unknown> | undefined)?.['.'] === 'string'
          ? ((pkg.exports as Record<string, string>)['.'] as string)
          : undefined;
    const entry = exported ?? pkg.main;
    if (entry) return path.join(dir, entry);
  }
  return path.join(dir, 'index.js');
}

/** Turns a specifier from the config into something `import()` takes. */
function resolveSpecifier(specifier: string, configDir: string): string {
  if (specifier.startsWith('file:')) return specifier;
  if (isPathLike(specifier)) {
    const full = path.resolve(configDir, specifier);
    if (!existsSync(full)) throw new Error(`no such file or folder: ${full}`);
    return pathToFileURL(statSync(full).isDirectory() ? resolveFolder(full) : full).href;
  }
  // npm package: look it up from the config's folder first, then from liveview's own.
  try {
    return pathToFileURL(createRequire(path.join(configDir, 'noop.js')).resolve(specifier)).href;
  } catch {
    return specifier;
  }
}

/** Checks that a module's default export is a plugin of our API version; returns a reason if not. */
function checkPlugin(candidate: unknown): string | undefined {
  if (typeof candidate !== 'object' || candidate === null) {
    return 'its default export is not a plugin object ({ name, apiVersion, module })';
  }
  const p = candidate as Partial<LiveViewPlugin>;
  if (typeof p.name !== 'string' || p.name.length === 0) return 'its default export has no name';
  if (
    typeof p.apiVersion !== 'number' ||
    p.apiVersion < OLDEST_PLUGIN_API_VERSION ||
    p.apiVersion > PLUGIN_API_VERSION
  ) {
    return `plugin '${p.name}' was written for plugin API version ${String(p.apiVersion)}, this liveview implements versions ${OLDEST_PLUGIN_API_VERSION} to ${PLUGIN_API_VERSION} (import PLUGIN_API_VERSION from 'liveview' and declare apiVersion: PLUGIN_API_VERSION)`;
  }
  if (typeof (p.module as { load?: unknown } | undefined)?.load !== 'function') {
    return `plugin '${p.name}' has no inversify ContainerModule in 'module' (use new ContainerModule(...) with ContainerModule imported from 'liveview')`;
  }
  return undefined;
}

/** Imports one plugin; throws ConfigError naming the plugin and why it failed. */
export async function loadPlugin(
  specifier: string,
  configDir: string,
  keyPath: string,
): Promise<LoadedPlugin> {
  let mod: { default?: unknown };
  try {
    mod = (await import(resolveSpecifier(specifier, configDir))) as { default?: unknown };
  } catch (err) {
    throw new ConfigError([`${keyPath}: cannot load plugin '${specifier}': ${errorMessage(err)}`]);
  }
  const problem = checkPlugin(mod.default);
  if (problem) throw new ConfigError([`${keyPath}: cannot load plugin '${specifier}': ${problem}`]);
  return { specifier, plugin: mod.default as LiveViewPlugin };
}

/** Loads the built-in plugins, then the configured ones; every failure goes to `problems`. */
export async function loadPlugins(
  specifiers: string[],
  configDir: string,
  problems: string[],
): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  if (specifiers.length > 0) registerPluginHooks();
  const all = [
    ...BUILTIN_PLUGINS.map((s, i) => ({ s, key: `(built-in plugin ${i})` })),
    ...specifiers.map((s, i) => ({ s, key: `plugins[${i}]` })),
  ];
  for (const { s, key } of all) {
    try {
      loaded.push(await loadPlugin(s, configDir, key));
    } catch (err) {
      problems.push(...(err instanceof ConfigError ? err.problems : [errorMessage(err)]));
    }
  }
  return loaded;
}
