import { ContainerModule } from 'inversify';

/** The plugin API version this liveview implements; a plugin declares the one it was written for. */
export const PLUGIN_API_VERSION = 2;

/**
 * The oldest plugin API version still loaded: detector plugins of version 1 work unchanged
 * (their API did not change); protocols need PROTOCOL_API_VERSION.
 */
export const OLDEST_PLUGIN_API_VERSION = 1;

/** The first version where protocols get a StreamHub instead of the controller. */
export const PROTOCOL_API_VERSION = 2;

/** What a plugin module's default export is. */
export interface LiveViewPlugin {
  /** Plugin name, used in messages (e.g. `mock`, `acme-camera`). */
  name: string;
  /** The plugin API version it was written for (PLUGIN_API_VERSION). */
  apiVersion: number;
  /** Binds its detector providers and/or protocols under DetectorProvider / Protocol (sync or async). */
  module: ContainerModule;
}

/** Identity helper that types a plugin definition. */
export function definePlugin(plugin: LiveViewPlugin): LiveViewPlugin {
  return plugin;
}
