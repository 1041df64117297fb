// The error log: one record per event, written with one write() so records
// from concurrent requests never interleave. Text that came from a client or
// an app is escaped so that it cannot forge a record (no bare CR, no control
// bytes, continuation lines indented).

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** An error with its stack, after a message saying where it happened. */
  error(message: string, error?: unknown): void;
}

export interface LogSink {
  write(text: string): unknown;
}

/** Control bytes other than LF and TAB, shown as \xNN. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Makes a multi-line text one record: every line after the first is indented. */
function oneRecord(text: string): string {
  return escapeControls(text).replace(/\n/g, '\n    ');
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return `non-Error value thrown: ${typeof error === 'string' ? JSON.stringify(error) : String(error)}`;
  } catch {
    return 'non-Error value thrown';
  }
}

export function createLogger(sink: LogSink, role: () => string): Logger {
  const record = (level: string, text: string) => {
    sink.write(`${new Date().toISOString()} ${role()} ${level}: ${oneRecord(text)}\n`);
  };
  return {
    info: (message) => record('info', message),
    warn: (message) => record('warn', message),
    error: (message, error) => record('error', error === undefined ? message : `${message}: ${describeError(error)}`),
  };
}
