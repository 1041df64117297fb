// The stop policy of every serving process (the master, a worker, --workers=0):
// which signal asks for which stop, and that a second TERM/INT during a
// graceful stop stops at once. The processes differ only in what a stop does.

/** What each stop signal asks for (SPEC §2). */
export const STOP_SIGNALS = { SIGTERM: 'graceful', SIGINT: 'graceful', SIGQUIT: 'immediate' } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;
/** Graceful: stop accepting, finish what is in flight within --graceful-timeout. Immediate: cut everything. */
export type Stop = 'graceful' | 'immediate';

export function isStopSignal(signal: string): signal is StopSignal {
  return Object.hasOwn(STOP_SIGNALS, signal);
}

/** The stop a process is in; each request says which stop to begin now, if any. */
export class StopState {
  private current: Stop | null = null;

  get stopping(): Stop | null {
    return this.current;
  }

  /** A stop signal: what it asks for, or at once if a stop is already under way. Null: nothing changes. */
  signal(signal: StopSignal): Stop | null {
    return this.begin(this.current === null ? STOP_SIGNALS[signal] : 'immediate');
  }

  /**
   * A stop asked for otherwise (the master's word to a worker, serve()'s
   * stop()): a graceful one while stopping gracefully changes nothing. Null:
   * nothing changes.
   */
  begin(stop: Stop): Stop | null {
    if (this.current === 'immediate' || this.current === stop) return null;
    this.current = stop;
    return stop;
  }
}

/** The line an operator reads when a signal stops the process. */
export function stopMessage(signal: string, stop: Stop, graceMs: number): string {
  return stop === 'graceful'
    ? `${signal}: stopping gracefully (in-flight requests get up to ${graceMs / 1000} s)`
    : `${signal}: stopping at once`;
}
