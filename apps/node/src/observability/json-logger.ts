import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type Logger as Pino } from 'pino';
import { currentCorrelation } from './correlation.js';

/** Nest's levels mapped onto pino's. */
const LEVELS: Record<LogLevel, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * Structured JSON logs (pino) for Nest: one object per line with `time`, `level`, `member`,
 * `context` (the Nest class), `msg`, and the correlation of the running request or message
 * (`requestId` / `messageId`). Indicator values are never logged by the node's code; log lines carry
 * ids, codes and counts.
 */
export class JsonLogger implements LoggerService {
  private readonly pino: Pino;

  constructor(p: { member: string; level: string; destination?: NodeJS.WritableStream }) {
    this.pino = pino(
      {
        level: p.level,
        base: { member: p.member },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      p.destination ?? process.stdout,
    );
  }

  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    const context = typeof params[params.length - 1] === 'string' ? params.pop() : undefined;
    const fields: Record<string, unknown> = { ...currentCorrelation() };
    if (context) fields.context = context;
    if (message instanceof Error) {
      fields.err = { message: message.message, name: message.name, stack: message.stack };
      this.pino[LEVELS[level]](fields, message.message);
      return;
    }
    if (level === 'error' && typeof params[0] === 'string') fields.stack = params[0];
    this.pino[LEVELS[level]](
      fields,
      typeof message === 'string' ? message : JSON.stringify(message),
    );
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }
}
