// The --pid file: written by the master with its own pid, refused when it
// names a running starlight (but for the master a USR2 successor replaces),
// replaced when stale, and removed by the master only (never by a worker) and
// only while it still holds the master's pid: a replaced master leaves its
// successor's file.

import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export class PidFileError extends Error {
  readonly exitCode = 1;
}

/** Whether `pid` is a running starlight (Linux: by its command line; elsewhere: by existence). */
function isRunningStarlight(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return /starlight/.test(readFileSync(cmdline, 'latin1'));
  } catch {
    return false;
  }
}

export class PidFile {
  readonly path: string;

  constructor(path: string, cwd: string) {
    this.path = resolve(cwd, path);
  }

  /** Writes this process's pid; `replacing`: the pid of a master this one replaces (USR2), whose file it takes over. */
  write(replacing?: number): void {
    let previous = NaN;
    try {
      previous = Number.parseInt(readFileSync(this.path, 'utf8').trim(), 10);
    } catch {
      // none yet
    }
    if (Number.isInteger(previous) && previous > 0 && previous !== process.pid && previous !== replacing && isRunningStarlight(previous)) {
      throw new PidFileError(`--pid ${this.path}: starlight is already running there as pid ${previous}`);
    }
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, `${process.pid}\n`);
      renameSync(temporary, this.path);
    } catch (error) {
      throw new PidFileError(`--pid ${this.path}: ${(error as Error).message}`);
    }
  }

  remove(): void {
    try {
      if (readFileSync(this.path, 'utf8').trim() === String(process.pid)) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
