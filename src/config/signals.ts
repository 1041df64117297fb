// The signals the master acts on and what each does (SPEC §2): the master subscribes to exactly
// these, and --help and docs/options.md show this table.

/** Each row: the signals (without SIG) that have one effect, and the effect in words. */
export const SIGNAL_TABLE = [
  {
    names: ['TERM', 'INT'],
    effect:
      'graceful stop: idle keep-alive connections close at once, in-flight requests finish (their ' +
      'responses say Connection: close), workers still busy after --graceful-timeout are killed; a ' +
      'second TERM or INT stops at once',
  },
  { names: ['QUIT'], effect: 'immediate stop' },
  {
    names: ['HUP'],
    effect:
      'rolling restart: new workers load the app afresh, each ready before an old one retires, at ' +
      'most one per --spawn-interval; if the new code cannot load, the old workers keep serving',
  },
  { names: ['TTIN', 'TTOU'], effect: 'one worker more, one fewer' },
  { names: ['USR1'], effect: 'reopen the error log and the access log (log rotation): the master, then every worker' },
  {
    names: ['USR2'],
    effect:
      'zero-downtime upgrade: start starlight again (same command line, directory and environment) ' +
      'with the listening sockets handed over; once its workers serve, the old master stops ' +
      'gracefully and --pid names the new one; if the new one fails, the old keeps serving and logs ' +
      'why (ignored with --workers=0)',
  },
] as const;

export type Signal = `SIG${(typeof SIGNAL_TABLE)[number]['names'][number]}`;

/** Every signal the master acts on: `SIGTERM`, `SIGINT`… */
export const SIGNALS: readonly Signal[] = SIGNAL_TABLE.flatMap((row) => row.names.map((name): Signal => `SIG${name}`));
