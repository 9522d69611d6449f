import { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';

/**
 * An event emitter whose `safeEmit` logs a throwing listener instead of letting it break the
 * emitter's pump (a frame loop must not die because one consumer threw).
 */
export class SafeEmitter<Events extends Record<string, unknown[]>> {
  private readonly emitter = new EventEmitter();
  constructor(protected readonly emitterLogger?: Logger) {
    this.emitter.setMaxListeners(0);
  }

  /** Adds a listener. */
  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener. */
  off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Number of listeners of an event. */
  listenerCount<K extends keyof Events & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }

  /** Calls every listener; a listener that throws is logged and the others still run. */
  protected safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (...a: Events[K]) => void)(...args);
      } catch (err) {
        this.emitterLogger?.error({ err, event }, 'event listener threw');
      }
    }
  }

  /** Removes every listener. */
  protected removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }
}
