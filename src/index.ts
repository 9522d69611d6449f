/**
 * liveview's public API: what a plugin author or an embedding program imports.
 * Plugins import only from here ('liveview').
 */
import 'reflect-metadata';

export { ContainerModule, inject, injectable } from 'inversify';
export * from './core/frame.js';
export * from './core/errors.js';
export * from './core/detector.js';
export * from './core/protocol.js';
export * from './core/plugin.js';
export * from './core/stream-params.js';
export * from './core/stream-worker.js';
export * from './core/frame-source.js';
export * from './core/latest-queue.js';
export * from './core/validation.js';
export * from './core/normalize.js';
export * from './core/subsample.js';
export * from './core/pixel-code.js';
export type { Logger } from './core/logger.js';
export { LiveViewController, type StartRequest, type StartResult } from './core/controller.js';
export { DetectorManager, type DetectorListing } from './core/detector-manager.js';
export { startServer, LiveViewServer, type StartOptions } from './api/server.js';
