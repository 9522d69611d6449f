/**
 * liveview's plugin SDK ('liveview'): what a detector or protocol plugin imports, and nothing of
 * the server (an embedding program imports 'liveview/server'). Built-in plugins import only
 * from here, exactly as a third party does.
 */
import 'reflect-metadata';

export { ContainerModule, inject, injectable } from 'inversify';
export * from './core/frame.js';
export * from './core/errors.js';
export * from './core/access.js';
export * from './core/detector.js';
export * from './core/reconnecting-detector.js';
export * from './core/protocol.js';
export * from './core/api-routes.js';
export * from './core/recording.js';
export * from './core/relays-config.js';
export * from './core/frame-recording.js';
export * from './core/plugin.js';
export * from './core/stream-params.js';
export * from './core/stream-worker.js';
export * from './core/stream-session.js';
export * from './core/stream-hub.js';
export * from './core/frame-source.js';
export * from './core/latest-queue.js';
export * from './core/validation.js';
export * from './core/normalize.js';
export * from './core/subsample.js';
export * from './core/pixel-code.js';
export { SafeEmitter } from './core/safe-emitter.js';
export { BufferRing } from './core/buffer-ring.js';
export type { Logger } from './core/logger.js';
