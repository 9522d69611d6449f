import { pino, type Logger as PinoLogger } from 'pino';

/** The structured logger every part of liveview writes to (pino). */
export type Logger = PinoLogger;

/** Log levels accepted in `logging.level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Creates the root logger, JSON lines on stdout. */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: { name: 'liveview' } });
}
