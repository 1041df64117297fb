// What `npm run bench -- --scaling` (bench/scaling.mjs) writes from its figures: the
// Markdown report (how it was measured, a table with ×linear and the CPU per request of
// each process group, a projection to more cores) and its chart, hand-written SVG.
// A row is { workload, server, label, workers, rps, errors, master_us, workers_us } (CPU µs
// per request: the parent process, and all its children together) or the same with
// { error } in place of the figures.

const int = (n) => Math.round(n).toLocaleString('en-US');
const fixed = (v, digits) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const COLORS = ['#1d4ed8', '#dc2626', '#16a34a', '#9333ea', '#ca8a04'];

const groupOf = (row) => `${row.workload}\u0000${row.server}`;

/**
 * Each row with `linear`: its req/s over what perfect scaling from the same server's
 * smallest measured worker count (on the same workload) would give; null where either failed.
 */
export function withLinear(rows) {
  const base = new Map();
  for (const row of rows) {
    if (row.error) continue;
    const seen = base.get(groupOf(row));
    if (seen === undefined || row.workers < seen.workers) base.set(groupOf(row), row);
  }
  return rows.map((row) => {
    const first = base.get(groupOf(row));
    return { ...row, linear: row.error || first === undefined ? null : row.rps / ((first.rps / first.workers) * row.workers) };
  });
}

function table(header, rows) {
  const align = header.map((_, i) => (i < 2 ? ':--' : '--:'));
  return [header, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The Markdown table: one row per workload, server and worker count. */
export function scalingTable(rows) {
  const body = withLinear(rows).map((r) =>
    r.error
      ? [r.workload, r.label, String(r.workers), 'failed', '', '', '', r.error.replace(/\s+/g, ' ').replace(/\|/g, '/').slice(0, 100)]
      : [r.workload, r.label, String(r.workers), int(r.rps), fixed(r.linear, 2), fixed(r.master_us, 1), fixed(r.workers_us, 1), String(r.errors)],
  );
  return table(['workload', 'server', 'workers', 'req/s', '×linear', 'master CPU µs/req', 'workers CPU µs/req', 'errors'], body);
}

/**
 * Where each server's figures at its most workers put its ceiling on `cores` cores given to
 * the server: the parent is one process (one core at most: 1e6 / master_us req/s), and
 * master and workers together cannot use more than every core (cores × 1e6 / (master_us +
 * workers_us)). `limit` names the one reached first.
 */
export function projection(rows, cores) {
  const last = new Map();
  for (const row of rows) {
    if (row.error) continue;
    const seen = last.get(groupOf(row));
    if (seen === undefined || row.workers > seen.workers) last.set(groupOf(row), row);
  }
  return [...last.values()].map((r) => {
    const masterCeiling = r.master_us > 0 ? 1e6 / r.master_us : Infinity;
    const coresCeiling = (cores * 1e6) / (r.master_us + r.workers_us);
    return {
      workload: r.workload,
      label: r.label,
      from: r.workers,
      master_us: r.master_us,
      workers_us: r.workers_us,
      masterCeiling,
      coresCeiling,
      ceiling: Math.min(masterCeiling, coresCeiling),
      limit: masterCeiling < coresCeiling ? 'the master (one process)' : 'the cores (workers)',
    };
  });
}

function projectionTable(rows, cores) {
  const body = projection(rows, cores).map((p) => [
    p.workload,
    p.label,
    String(p.from),
    fixed(p.master_us, 1),
    fixed(p.workers_us, 1),
    Number.isFinite(p.masterCeiling) ? int(p.masterCeiling) : 'none',
    int(p.coresCeiling),
    p.limit,
  ]);
  return table(['workload', 'server', 'from workers', 'master µs/req', 'workers µs/req', 'master ceiling req/s', `${cores}-core ceiling req/s`, 'stops scaling first'], body);
}

/** One sentence: where and how the figures were taken. */
export function scalingMethod(meta) {
  const share = meta.serverCpus.length === 1 && meta.workers.some((n) => n > 1) ? ` (so with more than one worker, the workers and their master share that one core)` : '';
  return (
    `Measured ${meta.date.slice(0, 10)} on ${meta.cpu} (${meta.cores} cores), Node ${meta.node}: ` +
    `wrk (\`-t${meta.clientCpus.length} -c${meta.connections}\`) pinned to CPU ${meta.clientCpus.join(',')}, each server alone pinned to CPU ${meta.serverCpus.join(',')}${share}; ` +
    `${meta.warmup_s} s warm-up then ${meta.duration_s} s measured per row. CPU µs/req is the CPU time (user + system, /proc/PID/stat) ` +
    `the parent process (master, cluster primary, Starlet's parent) and all its workers used in the measured seconds, over the requests answered; ` +
    `kernel time spent outside the servers' processes (softirq) is not in it.`
  );
}

/** The whole report: method, skipped servers, table, projection, chart. */
export function scalingReport(rows, meta, svgName) {
  const skipped = meta.skipped.map((s) => `- ${s.label}: skipped, ${s.why}`);
  return [
    '# Scaling: req/s by worker count',
    '',
    scalingMethod(meta),
    '',
    ...(skipped.length ? [...skipped, ''] : []),
    scalingTable(rows),
    '',
    `![](${svgName})`,
    '',
    `## Projection to ${meta.projectCores} cores`,
    '',
    `From each server's figures at its most workers: its parent process can do at most 1e6 / (master µs/req) req/s ` +
      `(it is one process), and all its processes together at most ${meta.projectCores} × 1e6 / (master + workers µs/req). ` +
      'A ceiling, not a forecast: it assumes the CPU per request stays as measured.',
    '',
    projectionTable(rows, meta.projectCores),
    '',
  ].join('\n');
}

/** Line chart, one panel per workload: req/s by workers, one line per server, dashed: linear from its first point. */
export function scalingSvg(rows, meta) {
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const servers = [...new Map(rows.map((r) => [r.server, r.label])).entries()];
  const counts = [...new Set(rows.map((r) => r.workers))].sort((a, b) => a - b);
  const panelW = 360;
  const panelH = 240;
  const left = 70;
  const top = 100;
  const W = left + workloads.length * (panelW + 40) + 20;
  const H = top + panelH + 60;
  const linear = withLinear(rows);
  const xOf = (n) => (counts.length === 1 ? panelW / 2 : (counts.indexOf(n) / (counts.length - 1)) * panelW);
  const text = (x, y, s, attrs = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs}>${esc(s)}</text>`;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12" fill="#111827">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    text(20, 28, 'Requests per second by number of workers (dashed: linear from one worker)', ' font-size="16" font-weight="600"'),
    text(20, 48, `${meta.cpu}, ${meta.cores} cores (servers on CPU ${meta.serverCpus.join(',')}, wrk on CPU ${meta.clientCpus.join(',')}), Node ${meta.node}, ${meta.date.slice(0, 10)}`, ' fill="#374151"'),
  ];
  let lx = 20;
  servers.forEach(([, label], i) => {
    out.push(`<rect x="${lx}" y="60" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`, text(lx + 18, 71, label));
    lx += 40 + label.length * 7;
  });
  workloads.forEach((workload, p) => {
    const x0 = left + p * (panelW + 40);
    const mine = linear.filter((r) => r.workload === workload && !r.error);
    const ideal = (r) => (r.linear ? r.rps / r.linear : r.rps);
    const max = Math.max(1, ...mine.map((r) => Math.max(r.rps, ideal(r))));
    const yOf = (v) => top + panelH - (v / max) * panelH;
    out.push(
      text(x0 + panelW / 2, top - 8, workload, ' text-anchor="middle" font-weight="600" font-size="13"'),
      `<line x1="${x0}" y1="${top + panelH}" x2="${x0 + panelW}" y2="${top + panelH}" stroke="#6b7280"/>`,
      `<line x1="${x0}" y1="${top}" x2="${x0}" y2="${top + panelH}" stroke="#6b7280"/>`,
      text(x0 - 6, top + 4, int(max), ' text-anchor="end" fill="#374151"'),
      text(x0 - 6, top + panelH + 4, '0', ' text-anchor="end" fill="#374151"'),
      ...counts.map((n) => text(x0 + xOf(n), top + panelH + 16, String(n), ' text-anchor="middle"')),
      text(x0 + panelW / 2, top + panelH + 34, 'workers', ' text-anchor="middle" fill="#374151"'),
    );
    servers.forEach(([id], i) => {
      const color = COLORS[i % COLORS.length];
      const points = mine.filter((r) => r.server === id).sort((a, b) => a.workers - b.workers);
      if (points.length === 0) return;
      const at = (r, v) => `${(x0 + xOf(r.workers)).toFixed(1)},${yOf(v).toFixed(1)}`;
      if (points.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1" stroke-dasharray="4 3" points="${points.map((r) => at(r, ideal(r))).join(' ')}"/>`);
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((r) => at(r, r.rps)).join(' ')}"/>`);
      for (const r of points) out.push(`<circle cx="${(x0 + xOf(r.workers)).toFixed(1)}" cy="${yOf(r.rps).toFixed(1)}" r="3" fill="${color}"/>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
