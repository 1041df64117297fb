// What every campaign script (soak, chaos, exhaust, fuzz, faults) ends with:
// a table of what was measured, each row held to the promise it checks, and
// an exit status that is non-zero when any promise was broken. Scripts add
// rows as they measure; nothing here knows how a figure was obtained.

export class Summary {
  /** @param {string} title what was run, with its size (e.g. "soak: 1,000,000 requests, 4 workers") */
  constructor(title) {
    this.title = title;
    /** @type {{ check: string, measured: string, promise: string, ok: boolean }[]} */
    this.rows = [];
  }

  /** One figure: what was checked, what was seen, the promise it is held to, and whether it was kept. */
  add(check, measured, promise, ok) {
    this.rows.push({ check, measured: String(measured), promise, ok: Boolean(ok) });
    return ok;
  }

  get broken() {
    return this.rows.filter((row) => !row.ok);
  }

  /** The table as Markdown, for the terminal and for docs/reliability.md. */
  table() {
    const lines = [`### ${this.title}`, '', '| check | measured | promise | kept |', '| :-- | --: | :-- | :-- |'];
    for (const row of this.rows) lines.push(`| ${row.check} | ${row.measured} | ${row.promise} | ${row.ok ? 'yes' : '**NO**'} |`);
    return lines.join('\n');
  }

  /** Prints the table and sets the exit status: 1 when a promise was broken (or nothing was checked). */
  finish() {
    process.stdout.write(`\n${this.table()}\n\n`);
    const broken = this.broken;
    if (this.rows.length === 0) process.stdout.write('nothing was checked\n');
    else if (broken.length > 0) process.stdout.write(`${broken.length} promise${broken.length === 1 ? '' : 's'} broken: ${broken.map((row) => row.check).join('; ')}\n`);
    else process.stdout.write('every promise kept\n');
    process.exitCode = this.rows.length === 0 || broken.length > 0 ? 1 : 0;
  }
}

/** A count or size argument such as 1000000, 1e6, 1_000_000, 100k or 1M; `fallback` when absent. */
export function countArgument(text, fallback) {
  if (text === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?(?:e\d+)?)([kKmM]?)$/.exec(text.replaceAll('_', '').replaceAll(',', ''));
  if (match === null) throw new Error(`not a count: ${text} (e.g. 1000000, 1e6, 100k, 1M)`);
  const scale = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[match[2]];
  return Math.round(Number(match[1]) * scale);
}
