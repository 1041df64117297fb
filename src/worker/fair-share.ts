// A worker's fair share of the connections, with several workers accepting
// on one shared listening socket. Linux wakes every process waiting on it and
// the first to run takes what is queued, so one worker can take a burst
// (measured, two workers: wrk -c64 keep-alive's requests 67/33, 87/13 with
// libuv's UV_TCP_SINGLE_ACCEPT; 32 connections opened at once, up to 32/0;
// ten at once on two cores, often all ten: the other worker not yet run).
//
// A worker over its share stops accepting for PAUSE_MS, its listeners left
// open (listen/bind.ts pauseAccepting(): no message, no descriptor sent), and
// what arrives meanwhile waits in the backlog for the other workers, which
// the kernel wakes. Over its share is judged two ways:
//  - a burst: BURST connections taken in a row, none of its own closing
//    between. This needs no news of the others, which is stale in a burst:
//    judged by the master's word alone, a worker took whole bursts against
//    connections that the other had just closed. A burst pauses a worker at
//    most once every PAUSE_EVERY_MS: nobody hears of that pause, and with a
//    new connection per request, where runs of 4 come by chance, unbounded
//    such pauses left both of two workers paused at once, often (4-5k
//    requests a second, against 19-20k with no pause at all).
//  - drift: more open connections than the fair share plus a slack (a tenth
//    of it, SLACK_MIN at least), at each connection taken while over. The
//    fair share comes from the counts each worker reports to the master and
//    the master passes on to all: at most every REPORT_MS, a change of an
//    eighth at least (REPORT_MIN_CHANGE at least: with a new connection per
//    request the counts jitter), and at once on a drift pause if the last
//    report is DRIFT_REPORT_MS old: while connections pour in, each worker's
//    fresh count against the others' stale ones put every worker over, all
//    pausing, until the counts caught up (3,000 connections opened at once
//    took 0.9 s to be answered instead of 0.5).
// So with a new connection per request the master passes on a few messages a
// second per worker, not one per connection.

/** How long a worker over its share stops accepting. */
const PAUSE_MS = 2;
/** A burst pauses a worker no sooner than this after its last pause (of either kind). */
const PAUSE_EVERY_MS = 20;
/** A burst: this many connections taken in a row, none closing between. */
const BURST = 4;
/** Drift: more open connections than the fair share, plus this part of it... */
const SLACK_RATIO = 0.1;
/** ...and at least this many. */
const SLACK_MIN = 4;
/** Reports of this worker's open connections are this far apart at least (DRIFT_REPORT_MS after a drift pause)... */
const REPORT_MS = 50;
const DRIFT_REPORT_MS = 25;
/** ...and each differs from the last by this part of it at least, and at least REPORT_MIN_CHANGE. */
const REPORT_CHANGE_RATIO = 0.125;
const REPORT_MIN_CHANGE = 2;

export interface FairShareHooks {
  /** This worker's open connections now. */
  connections(): number;
  /** Tells the master this worker's open connections. */
  report(connections: number): void;
  /** Stops accepting on the shared listeners; false if there was none to pause (it accepts on none, or only on its own). */
  pause(): boolean;
  /** Accepts on them again. */
  resume(): void;
}

export class FairShare {
  /** The other workers' open connections, and how many workers serve (this one included). */
  private others = 0;
  private workers = 1;
  /** The count last reported (the master starts from 0), and when. */
  private reported = 0;
  private reportedAt = 0;
  private trailing: NodeJS.Timeout | null = null;
  /** When this worker last paused (Date.now()): a burst pauses it again PAUSE_EVERY_MS later at the soonest. */
  private pausedAt = 0;
  /** Connections taken since this worker's last close (or pause). */
  private run = 0;

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
    this.run++;
    const now = Date.now();
    const over = this.overShare(own, now);
    if (over !== null && this.hooks.pause()) {
      this.pausedAt = now;
      this.run = 0;
      setTimeout(() => this.hooks.resume(), PAUSE_MS).unref();
      if (over === 'drift' && now - this.reportedAt >= DRIFT_REPORT_MS) return this.report();
    }
    this.reportSoon(now);
  }

  /** After each connection has closed: the count is reported as after an accept. */
  closed(): void {
    this.run = 0;
    this.reportSoon(Date.now());
  }

  private overShare(own: number, now: number): 'burst' | 'drift' | null {
    if (this.workers < 2) return null;
    if (this.run >= BURST && now - this.pausedAt >= PAUSE_EVERY_MS) return 'burst';
    const fair = (own + this.others) / this.workers;
    return own > fair + Math.max(SLACK_MIN, fair * SLACK_RATIO) ? 'drift' : null;
  }

  /** Reports this worker's count, now or (a report went out less than REPORT_MS ago) once that much time has passed. */
  private reportSoon(now: number): void {
    if (this.trailing !== null) return;
    const wait = this.reportedAt + REPORT_MS - now;
    if (wait <= 0) return this.report();
    this.trailing = setTimeout(() => {
      this.trailing = null;
      this.report();
    }, wait);
    this.trailing.unref();
  }

  /** Reports the count if it changed enough since the last report. */
  private report(): void {
    const connections = this.hooks.connections();
    if (Math.abs(connections - this.reported) < Math.max(REPORT_MIN_CHANGE, this.reported * REPORT_CHANGE_RATIO)) return;
    this.reported = connections;
    this.reportedAt = Date.now();
    this.hooks.report(connections);
  }
}
