// A worker's fair share of the connections, with several workers accepting
// on one shared listening socket. Linux wakes every process waiting on it and
// the first to run takes what is queued, so one worker can take a burst
// (measured, two workers: wrk -c64 keep-alive's requests 67/33, 87/13 with
// libuv's UV_TCP_SINGLE_ACCEPT; 32 connections opened at once, up to 32/0).
// A worker that holds clearly more open connections than its share (by what
// the master last said the others hold) stops accepting for a moment: it
// closes its copies of the shared listeners and PAUSE_MS later asks the
// master for them again, and what arrives meanwhile waits in the backlog for
// the other workers, which the kernel wakes. The master is told each
// worker's open connections as they change (at most every REPORT_MS, and not
// for a jitter) and passes them on to all. Never a message per connection:
// under wrk -c64, a few a second with keep-alive; with a new connection per
// request, the pauses and reports cost (measured at 10-12k connections a
// second) the master 6 µs of CPU per connection instead of 2, and the whole
// server 70 µs instead of 65. A longer pause cost more: at 10 ms, both
// workers were often paused at once (on each other's counts of a moment
// before), and a new connection per request went at half the rate.

/** How long a worker over its share stops accepting. */
const PAUSE_MS = 2;
/** Reports of this worker's open connections are this far apart at least... */
const REPORT_MS = 20;
/** ...and each differs from the last by this part of it at least, and at least REPORT_MIN_CHANGE: a count that only jitters under a steady load is not reported. */
const REPORT_CHANGE_RATIO = 0.125;
const REPORT_MIN_CHANGE = 2;
/** Over its share: more open connections than the fair share, plus this part of it... */
const SLACK_RATIO = 0.1;
/** ...and at least this many. */
const SLACK_MIN = 2;

export interface FairShareHooks {
  /** This worker's open connections now. */
  connections(): number;
  /** Tells the master this worker's open connections. */
  report(connections: number): void;
  /** Closes this worker's copies of the shared listeners; false if it holds none (it accepts on none, or only on its own). */
  pause(): boolean;
  /** Asks the master for the shared listeners again. */
  resume(): void;
}

export class FairShare {
  /** The other workers' open connections, and how many workers serve (this one included). */
  private others = 0;
  private workers = 1;
  private reported = -1;
  private reportedAt = 0;
  private trailing: NodeJS.Timeout | null = null;
  private paused = false;

  constructor(
    private readonly ownId: number,
    private readonly hooks: FairShareHooks,
  ) {}

  /** The master's word: each serving worker's open connections, by id. */
  shared(loads: ReadonlyArray<readonly [id: number, connections: number]>): void {
    this.others = 0;
    this.workers = 1;
    for (const [id, connections] of loads) {
      if (id === this.ownId) continue;
      this.others += connections;
      this.workers++;
    }
  }

  /** After each connection accepted on a listener: pauses if this worker is over its share, and reports its count. */
  accepted(): void {
    const own = this.hooks.connections();
    const fair = (own + this.others) / this.workers;
    if (!this.paused && this.workers > 1 && own > fair + Math.max(SLACK_MIN, fair * SLACK_RATIO) && this.hooks.pause()) {
      this.paused = true;
      setTimeout(() => {
        this.paused = false;
        this.hooks.resume();
      }, PAUSE_MS).unref();
      // Said at once: the others judge their own share by it.
      return this.report(own);
    }
    this.reportSoon();
  }

  /**
   * After each connection has closed: its count is reported as after an
   * accept, and at once when none is left. Without it a worker's last word
   * after a burst was the count of its busiest moment, and until its next
   * accept the others judged their share against connections it no longer
   * had: one took a whole next burst without pausing.
   */
  closed(): void {
    if (this.hooks.connections() === 0) this.report(0);
    else this.reportSoon();
  }

  /** Reports this worker's count, now or (a report went out less than REPORT_MS ago) once that much time has passed. */
  private reportSoon(): void {
    if (this.trailing !== null) return;
    const wait = this.reportedAt + REPORT_MS - Date.now();
    if (wait <= 0) return this.report(this.hooks.connections());
    this.trailing = setTimeout(() => {
      this.trailing = null;
      this.report(this.hooks.connections());
    }, wait);
    this.trailing.unref();
  }

  private report(connections: number): void {
    this.reportedAt = Date.now();
    if (Math.abs(connections - this.reported) < Math.max(REPORT_MIN_CHANGE, this.reported * REPORT_CHANGE_RATIO)) return;
    this.reported = connections;
    this.hooks.report(connections);
  }
}
