/**
 * Module resolution hooks (node:module `register`) for third-party plugins: `import 'liveview'`
 * in a plugin always means the liveview that is running. A plugin in a local folder has no
 * node_modules of its own, and a second copy of the core would not share its classes.
 */
import type { InitializeHook, ResolveHook } from 'node:module';

/** What the loader passes to the hooks. */
export interface PluginHooksData {
  /** URL of the running liveview's package entry. */
  entry: string;
}

let entry: string | undefined;

/** Receives the entry URL from the loader thread. */
export const initialize: InitializeHook<PluginHooksData> = (data) => {
  entry = data.entry;
};

/** Maps the bare specifier `liveview` to the running package entry. */
export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  if (specifier === 'liveview' && entry) return { url: entry, shortCircuit: true };
  return nextResolve(specifier, context);
};
