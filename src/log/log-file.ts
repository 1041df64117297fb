// Where a log's records go: stderr, or a file this process opens for append
// itself, so that a record written with one write() lands whole whoever else
// appends. reopen() is log rotation (USR1): the file is opened again by its
// name, and records go to the new file from the next one on. A write that
// fails (a full disk, a failing device) loses that record, and nothing else:
// the first failure is said on stderr, and so is the first write that works
// again, with the number of records lost meanwhile.

import { closeSync, fchownSync, openSync, writeSync } from 'node:fs';

/** Opens `path` for append, creating it; a failure names `option` and the path. */
export function openForAppend(option: string, path: string): number {
  try {
    return openSync(path, 'a');
  } catch (error) {
    throw new Error(`${option} ${path}: ${(error as Error).message}`);
  }
}

export class LogFile {
  private fd: number | null = null;
  private path: string | null = null;
  /** Records lost since the last write that worked. */
  private lost = 0;

  /** `option`: the option that names the file, for the errors that name it. */
  constructor(private readonly option: string) {}

  /** Appends to `path` from now on; throws (with the option and path named) if it cannot be opened. */
  open(path: string): void {
    const fd = openForAppend(this.option, path);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = fd;
    this.path = path;
  }

  /** Log rotation: opens the file again by its name (no-op on stderr). Throws as open() does; the old file is then kept. */
  reopen(): void {
    if (this.path !== null) this.open(this.path);
  }

  /** The open file's descriptor, or null on stderr. */
  get descriptor(): number | null {
    return this.fd;
  }

  /** Gives the file to another user (no-op on stderr). */
  chown(uid: number, gid: number): void {
    if (this.fd !== null) fchownSync(this.fd, uid, gid);
  }

  /** One record, in one write. (stderr may keep a buffer it cannot write at once: pass it one that is not reused.) */
  write(record: string | Uint8Array): void {
    if (this.fd === null) {
      process.stderr.write(record);
      return;
    }
    try {
      // (One call, but writeSync's overloads take a string or bytes, not either.)
      if (typeof record === 'string') writeSync(this.fd, record);
      else writeSync(this.fd, record);
    } catch (error) {
      // A full disk or a failing device: the record is lost, the server goes on.
      if (this.lost++ === 0) process.stderr.write(`starlight[${process.pid}]: ${this.option} ${this.path}: cannot write (${(error as Error).message}); records are lost until it can\n`);
      return;
    }
    if (this.lost > 0) {
      process.stderr.write(`starlight[${process.pid}]: ${this.option} ${this.path}: written again; ${this.lost} record${this.lost === 1 ? '' : 's'} lost\n`);
      this.lost = 0;
    }
  }
}
