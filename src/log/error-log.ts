// Where the error log goes: stderr, or the --error-log file, which each
// process (the master and every worker) opens for append itself, so that a
// record, written with one write(), lands whole whoever else writes. reopen()
// is log rotation (USR1): the file is opened again by its name, and records
// go to the new file from the next one on; the old one is complete.

import { Console } from 'node:console';
import { closeSync, fchownSync, fstatSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { LogSink } from './logger.js';

export class ErrorLog implements LogSink {
  private fd: number | null = null;
  private path: string | null = null;

  /** Appends to `path` from now on; throws (with the path named) if it cannot be opened. */
  open(path: string): void {
    let fd: number;
    try {
      fd = openSync(path, 'a');
    } catch (error) {
      throw new Error(`--error-log ${path}: ${(error as Error).message}`);
    }
    if (this.fd !== null) closeSync(this.fd);
    this.fd = fd;
    this.path = path;
  }

  /** Log rotation: opens the file again by its name (no-op on stderr). Throws as open() does; the old file is then kept. */
  reopen(): void {
    if (this.path !== null) this.open(this.path);
  }

  /** The open file's descriptor (for a child's stdout and stderr), or null on stderr. */
  get descriptor(): number | null {
    return this.fd;
  }

  /** Whether this process's stderr is the log file already (a daemon's is): then a message for both is written once. */
  isStderr(): boolean {
    if (this.fd === null) return true;
    try {
      const [log, stderr] = [fstatSync(this.fd), fstatSync(2)];
      return log.dev === stderr.dev && log.ino === stderr.ino;
    } catch {
      return false;
    }
  }

  /** Gives the file to the user the workers run as, so that they can reopen it after a rotation. */
  chown(uid: number, gid: number): void {
    if (this.fd !== null) fchownSync(this.fd, uid, gid);
  }

  write(text: string): void {
    if (this.fd === null) {
      process.stderr.write(text);
      return;
    }
    try {
      writeSync(this.fd, text);
    } catch {
      // A full disk or a failing device: the record is lost, the server goes on.
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
