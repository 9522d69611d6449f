/**
 * liveview for embedding programs ('liveview/server'): the plugin SDK plus the server, its
 * controller and detector manager.
 */
export * from './index.js';
export { LiveViewController, type StartRequest, type StartResult } from './core/controller.js';
export { DetectorManager, type DetectorListing } from './core/detector-manager.js';
export { startServer, LiveViewServer, type StartOptions } from './api/server.js';
