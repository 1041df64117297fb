// The access log of one serving process (--access-log): each request's line,
// made by the compiled format (access-format.ts), appended to the file this
// process opened itself (or to stderr for `-`). The lines of one event-loop
// turn are gathered, as UTF-8, in one buffer, and go out together in one
// write of whole lines (appends to a file land whole, whoever else writes; on
// stderr, which may be a pipe, a write is kept under PIPE_BUF for the same
// reason); a process that exits writes what it holds first, and one killed
// (KILL) loses the lines of its current turn at most. A line that is the line
// before again (the same string from the format) is copied in the buffer, not
// encoded again. reopen() is log rotation (USR1): the file is opened again by
// its name, after what was held went to the old one.

import { closeSync, fchownSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Options } from '../config/options.js';
import { compileAccessFormat, type AccessFormatter, type AccessRecord } from './access-format.js';
import { LogFile, openForAppend } from './log-file.js';

/** The most a write to a file carries (several lines; a longer line goes alone). */
const FILE_BATCH = 64 * 1024;
/** The same on stderr: PIPE_BUF, what a pipe takes in one piece. */
const STDERR_BATCH = 4096;

/**
 * In the master: creates the access log file (at start, and again after a rotation), owned by the
 * workers' user where they run as another one (`owner`), so that each worker can open it.
 */
export function prepareAccessLogFile(path: string, owner: { uid: number | null; gid: number | null } | null): void {
  const fd = openForAppend('--access-log', path);
  try {
    if (owner !== null && (owner.uid !== null || owner.gid !== null) && process.geteuid?.() === 0) fchownSync(fd, owner.uid ?? -1, owner.gid ?? -1);
  } finally {
    closeSync(fd);
  }
}

/** `-E development` without --access-log: a short line on stderr, `METHOD url status duration`. */
const DEVELOPMENT_FORMAT = '%m %U%q %>s %{ms}T ms';

/**
 * The access log of serving process `worker` (0 for --workers=0), as the options say: --access-log,
 * else the short one of `-E development`, else none. Throws for a bad --access-log-format
 * (UsageError, whether or not there is a log) or a file that cannot be opened.
 */
export function openAccessLog(options: Options, cwd: string, worker: number): AccessLog | null {
  const writer = { worker, pid: process.pid };
  const format = compileAccessFormat(options.accessLogFormat, writer);
  if (options.accessLog !== undefined) return new AccessLog(options.accessLog === '-' ? '-' : resolve(cwd, options.accessLog), format);
  return options.env === 'development' ? new AccessLog('-', compileAccessFormat(DEVELOPMENT_FORMAT, writer)) : null;
}

export class AccessLog {
  private readonly file = new LogFile('--access-log');
  /** The lines held, from its start to `used`. */
  private readonly batch: Buffer;
  private used = 0;
  /** The last line put in the batch, and where its bytes are (with its newline): the batch's bytes are kept after a flush. */
  private lastLine: string | null = null;
  private lastStart = 0;
  private lastEnd = 0;
  /** Lines are held, and a flush is queued for the end of this event-loop turn. */
  private flushQueued = false;
  /** The time of this turn's lines (ms since the epoch), read with its first: one clock read a turn. */
  private turnTime = 0;
  private readonly flushNow = () => {
    this.flushQueued = false;
    this.flush();
  };

  /** `path`: the file (resolved), or `-` for stderr. Opens the file now; throws as open() does. */
  constructor(
    path: string,
    private readonly format: AccessFormatter,
  ) {
    this.batch = Buffer.allocUnsafe(path === '-' ? STDERR_BATCH : FILE_BATCH);
    if (path !== '-') this.file.open(path);
  }

  /** Log rotation: what is held goes to the old file, then the file is opened again by its name. Throws if it cannot be (the old one is kept). */
  reopen(): void {
    this.flush();
    this.file.reopen();
  }

  /** A request begins: what log() is to be given when it ends (its time, where the format shows durations). */
  start(): number {
    // The global performance: Node loads it at first use, which a master never makes.
    return this.format.timed ? performance.now() : 0;
  }

  /** The line of a request that began at `startedAt` (from start()) and has just ended. */
  log(record: AccessRecord, startedAt: number): void {
    if (!this.flushQueued) {
      this.flushQueued = true;
      this.turnTime = Date.now();
      setImmediate(this.flushNow);
    }
    const durationMs = this.format.timed ? performance.now() - startedAt : 0;
    // The time is the line's, as nginx writes it: whatever the format, the request has just ended.
    const line = this.format(record, this.turnTime, durationMs);
    // Room for the line at its longest in UTF-8 (3 bytes a UTF-16 unit) and its newline.
    const room = 3 * line.length + 1;
    if (this.used + room > this.batch.length) {
      this.flush();
      if (room > this.batch.length) {
        this.lastLine = null;
        this.file.write(Buffer.from(`${line}\n`));
        return;
      }
    }
    const start = this.used;
    // The line before, again (a format gives the same string for the same items): its bytes, copied.
    // They are still in the batch, where it was or before `start` (a flush starts the batch again).
    if (line === this.lastLine) {
      this.batch.copyWithin(start, this.lastStart, this.lastEnd);
      this.used += this.lastEnd - this.lastStart;
    } else {
      this.used += this.batch.utf8Write(line, start);
      this.batch[this.used++] = 0x0a;
    }
    this.lastLine = line;
    this.lastStart = start;
    this.lastEnd = this.used;
  }

  /** Writes the lines held. */
  flush(): void {
    if (this.used === 0) return;
    const lines = this.batch.subarray(0, this.used);
    this.used = 0;
    // (stderr may keep what it cannot write now: it gets a copy, as the batch is reused.)
    this.file.write(this.file.descriptor === null ? Buffer.from(lines) : lines);
  }
}
