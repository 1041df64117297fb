// What bench/run.mjs shows and writes from its figures: the markdown table printed after a
// run, the README section (a sentence on the method, a table, the chart) and the bar chart
// docs/bench.svg, hand-written SVG. `cells[workload][server]` is { rps, ratio, p50_ms,
// p99_ms, errors, rss_mib, master_rss_mib } or { error } (rss_mib: the serving process, a
// starlight worker; master_rss_mib: starlight's master, null for a one-process server);
// `servers` is [{ id, label }], node:http last.

const int = (n) => Math.round(n).toLocaleString('en-US');
const ms = (v) => (v === null ? 'n/a' : v.toFixed(v < 10 ? 2 : 1));
const mib = (v) => (v === null ? 'n/a' : v.toFixed(1));
const times = (v) => (v === null ? 'n/a' : v.toFixed(2));
const or = (cell, format) => (cell.error ? 'failed' : format(cell));

/** A markdown table: the first `text` columns left-aligned, the figures right-aligned. */
function table(header, rows, text = 1) {
  const align = header.map((h, i) => (i < text ? ':--' : '--:'));
  return [header, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Every figure, one row per workload and server, for the terminal. */
export function resultTable(cells, servers) {
  const rows = Object.entries(cells).flatMap(([workload, byServer]) =>
    servers.map(({ id, label }) => {
      const c = byServer[id];
      if (c.error) return [workload, label, 'failed', '', '', '', '', '', c.error.replace(/\s+/g, ' ').slice(0, 120)];
      return [workload, label, int(c.rps), times(c.ratio), ms(c.p50_ms), ms(c.p99_ms), mib(c.rss_mib), mib(c.master_rss_mib), String(c.errors)];
    }),
  );
  return table(['workload', 'server', 'req/s', '×node:http', 'p50 ms', 'p99 ms', 'worker RSS MiB', 'master RSS MiB', 'errors'], rows, 2);
}

/** One sentence: where and how the figures were taken. */
export function method(meta) {
  const m = meta.method;
  const where = m.pinned
    ? `each server alone and pinned to CPU ${m.pinned.server} (\`taskset -c ${m.pinned.server}\`), wrk on CPU ${m.pinned.client}`
    : 'each server alone, nothing pinned (no taskset or one CPU)';
  const rounds = m.rounds > 1 ? `, median of ${m.rounds} rounds` : '';
  return (
    `Measured ${meta.date.slice(0, 10)} on ${meta.machine.cpu} (${meta.machine.cores} cores), Node ${meta.machine.node}: ` +
    `${where}, \`wrk -t${m.threads} -c${m.connections}\`, ${m.warmup_s} s warm-up then ${m.duration_s} s measured per workload${rounds}; ` +
    `starlight serves the Fetch app with \`--workers=1\` (the master and one worker), node:http the same app as a \`(req, res)\` ` +
    `handler in one process; RSS is each process's peak (VmHWM): the serving process (starlight's worker, node:http's ` +
    `only process) per server, and starlight's master apart.`
  );
}

/** The README section between the bench markers. */
export function readmeSection(cells, servers, meta) {
  const [fast, native, base] = servers;
  const header = [
    'workload',
    `${fast.label} req/s`,
    '×node:http',
    `${native.label} req/s`,
    '×node:http',
    `${base.label} req/s`,
    ...servers.map((s) => `RSS MiB ${s.label.replace('starlight --', '--')}`),
    'RSS MiB starlight master',
  ];
  const rows = Object.entries(cells).map(([workload, c]) => [
    workload,
    or(c[fast.id], (x) => int(x.rps)),
    or(c[fast.id], (x) => times(x.ratio)),
    or(c[native.id], (x) => int(x.rps)),
    or(c[native.id], (x) => times(x.ratio)),
    or(c[base.id], (x) => int(x.rps)),
    ...servers.map((s) => or(c[s.id], (x) => mib(x.rss_mib))),
    or(c[fast.id], (x) => mib(x.master_rss_mib)),
  ]);
  return [
    method(meta),
    '',
    table(header, rows),
    '',
    '![](docs/bench.svg)',
    '',
    'To reproduce (needs [wrk](https://github.com/wg/wrk): `apt-get install wrk` on Debian): `npm run bench`; ' +
      '`node bench/run.mjs --help` lists its options (`--duration`, `--workloads`, `--rounds`, `--no-write`, `--access-log`). ' +
      '`npm run bench -- --scaling` measures req/s by number of workers instead, starlight against node:cluster and Starlet, ' +
      'and writes a report with a chart to `bench/scaling/` (`--scaling --help`). ' +
      '`npm run bench -- --paired` runs two servers at once on one CPU and compares their CPU per request round by round, ' +
      'for differences smaller than the noise between runs (`--paired --help`).',
  ].join('\n');
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const COLORS = ['#1d4ed8', '#60a5fa', '#9ca3af'];

/** Horizontal bars, one group per workload: req/s relative to node:http for each server. */
export function chartSvg(cells, servers, meta) {
  const W = 780;
  const left = 130; // workload names
  const barMax = 440; // the longest bar
  const labels = left + barMax + 16; // the figures, in a column right of every bar
  const bar = 18;
  const gap = 4;
  const group = servers.length * (bar + gap) + 18;
  const top = 100;
  const workloads = Object.keys(cells);
  const H = top + workloads.length * group + 30;
  const ratios = workloads.flatMap((w) => servers.map((s) => cells[w][s.id].ratio ?? 0));
  const scale = barMax / Math.max(1, ...ratios);
  const x1 = left + scale; // where 1.0 × node:http ends
  const text = (x, y, s, attrs = '') => `<text x="${x}" y="${y}"${attrs}>${esc(s)}</text>`;

  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="13" fill="#111827">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    text(20, 30, 'starlight vs node:http: requests per second, relative to node:http (one core each)', ' font-size="16" font-weight="600"'),
    text(20, 52, `${meta.machine.cpu}, Node ${meta.machine.node}, wrk -t${meta.method.threads} -c${meta.method.connections}, ${meta.method.duration_s} s per run, ${meta.date.slice(0, 10)}`, ' fill="#374151" font-size="12"'),
  ];
  const bottom = top + workloads.length * group - 14;
  out.push(
    `<line x1="${x1}" y1="${top - 6}" x2="${x1}" y2="${bottom}" stroke="#111827" stroke-dasharray="4 3"/>`,
    text(x1, bottom + 18, 'node:http = 1.00×', ' text-anchor="middle" font-size="12"'),
  );
  let lx = 20;
  servers.forEach((s, i) => {
    out.push(`<rect x="${lx}" y="66" width="14" height="14" fill="${COLORS[i]}"/>`, text(lx + 20, 78, s.label));
    lx += 44 + s.label.length * 7;
  });
  workloads.forEach((w, g) => {
    const y0 = top + g * group;
    out.push(text(left - 12, y0 + (servers.length * (bar + gap)) / 2 + 2, w, ' text-anchor="end" font-weight="600"'));
    servers.forEach((s, i) => {
      const c = cells[w][s.id];
      const y = y0 + i * (bar + gap);
      const width = Math.max(1, c.ratio * scale);
      out.push(
        `<rect x="${left}" y="${y}" width="${width.toFixed(1)}" height="${bar}" fill="${COLORS[i]}"/>`,
        text(labels, y + bar - 5, `${times(c.ratio)}×  ${int(c.rps)} req/s`, ' font-size="12"'),
      );
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
