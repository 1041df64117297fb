// The error log: stderr, or the --error-log file (a LogFile), which each
// process (the master and every worker) opens for append itself and reopens
// on USR1; and the console that the app's console.log and console.error write
// to, which follows it across reopens.

import { Console } from 'node:console';
import { fstatSync } from 'node:fs';
import { Writable } from 'node:stream';
import { LogFile } from './log-file.js';
import type { LogSink } from './logger.js';

/** The error log (--error-log, else stderr), also the app's console. */
export class ErrorLog extends LogFile implements LogSink {
  constructor() {
    super('--error-log');
  }

  /** Whether this process's stderr is the log file already (a daemon's is): then a message for both is written once. */
  isStderr(): boolean {
    const fd = this.descriptor;
    if (fd === null) return true;
    try {
      const [log, stderr] = [fstatSync(fd), fstatSync(2)];
      return log.dev === stderr.dev && log.ino === stderr.ino;
    } catch {
      return false;
    }
  }

  /** A console whose output follows this log across reopens (the app's console.log and console.error). */
  console(): Console {
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.write(chunk.toString());
        done();
      },
    });
    return new Console({ stdout: stream, stderr: stream });
  }
}
