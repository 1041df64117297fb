// `npm run soak [-- COUNT]`: a million requests (or COUNT: 20k, 1M, ...) mixed over the bench
// workloads, against two servers of 4 workers each, a Fetch app and a Node app
// (campaign/apps/), on 127.0.0.1. The requests go in slices: wrk drives one workload against one
// server until it has its share (campaign/wrk/count.lua counts every response), then the next,
// round after round, so that every part of the run sees every workload; a long run starts with
// a warm-up of 40% more rounds, not measured. During each slice the
// server's processes are sampled from /proc: each worker's and the master's RSS, and their open
// descriptors; after each slice each worker's live memory (heapUsed + external after a full GC,
// which the apps report at /soak/memory). Promised: no failed request (wrk's connect, read, write and timeout errors, and
// every response that is not 2xx, count as failures), live memory and RSS flat over the last half (the
// least-squares slope of its upper envelope; a short run, still warming up, is held to a growth
// of a few MiB instead),
// descriptors once idle as many as before, and the same workers from
// start to end. Every process started here is stopped by its pid, at the end and on SIGINT.
import { fileURLToPath } from 'node:url';
import { start, stop, stopAll } from '../bench/proc.mjs';
import { fdCount, livePids, rssKiB } from '../test/helpers/proc.mjs';
import { startServer } from '../test/helpers/server.mjs';
import { sleep, waitFor } from '../test/helpers/wait.mjs';
import { countArgument, Summary } from './summary.mjs';
import { fitSlope, onInterrupt } from './measure.mjs';

const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const WORKERS = 4;
const CONNECTIONS = 32;
/** Requests per round of all the slices: a long run goes round the workloads again and again. */
const ROUND = 120_000;
/** Rounds run first, not measured, as a share of the measured ones (none in a run of one round): V8's heap grows in steps to its working size over the first few hundred thousand requests. */
const WARM_UP = 0.4;
/** The slope a worker's or the master's RSS may have over the last half… */
const SLOPE_MIB_PER_100K = 1;
/** …or, in a short run (fewer requests than SHORT_RUN in a server's last half), the growth it may show then: a heap still settling. */
const NOISE_MIB = 16;
const SHORT_RUN = 200_000;
/** How often the server driven is sampled from /proc during a slice. */
const SAMPLE_MS = 100;
/** Spans of requests whose highest RSS sample makes the envelope whose slope is judged. */
const WINDOWS = 16;
/** The RSS a worker may reach while V8 sizes its heap, if its live memory is flat. */
const RSS_CEILING_MIB = 160;
/** The slowest a run may go before it gives up (requests per second), and the longest slice. */
const SLOWEST_RPS = 500;
const SLICE_LIMIT_S = 300;

const ECHO_BODY = 'starlight-bench-'.repeat(256); // as bench/wrk/echo.lua sends
const WORKLOADS = [
  { name: 'plaintext', script: 'get.lua', path: '/' },
  { name: 'json', script: 'get.lua', path: '/json' },
  { name: 'echo 4 KiB', script: 'echo.lua', path: '/echo' },
  { name: 'headers', script: 'headers.lua', path: '/headers' },
  { name: 'pipelined', script: 'pipelined.lua', path: '/' },
  { name: 'no-keepalive', script: 'no-keepalive.lua', path: '/' },
];
const APPS = [
  { name: 'Fetch app', file: file('./apps/fetch.mjs') },
  { name: 'Node app', file: file('./apps/node.mjs') },
];

/** Each route answers as the bench apps do (checked before and after the run). */
async function answersRight(port) {
  const base = `http://127.0.0.1:${port}`;
  const text = async (path, init) => {
    const response = await fetch(base + path, init);
    return response.status === 200 ? response.text() : `status ${response.status}`;
  };
  const headers = await fetch(`${base}/headers`, { headers: { 'x-request-id': 'soak-1' } });
  await headers.arrayBuffer();
  return (
    (await text('/')) === 'Hello, World!' &&
    (await text('/json')) === '{"message":"Hello, World!"}' &&
    (await text('/echo', { method: 'POST', body: ECHO_BODY })) === ECHO_BODY &&
    headers.status === 200 &&
    headers.headers.get('x-request-id') === 'soak-1'
  );
}

/**
 * One slice: wrk on one workload until `requests` responses (count.lua), at most SLICE_LIMIT_S,
 * with the server sampled every SAMPLE_MS. Returns wrk's counts and the samples, each placed at
 * the requests served by then (the slice's responses spread evenly over its time).
 */
async function slice(server, workload, requests) {
  const samples = [];
  const sampling = setInterval(() => samples.push({ at: Date.now(), snapshot: sample(server) }), SAMPLE_MS);
  const startedAt = Date.now();
  const wrk = start([
    'wrk', '-t1', `-c${CONNECTIONS}`, `-d${SLICE_LIMIT_S}s`, '--timeout', '5s', '-s', file('./wrk/count.lua'),
    `http://127.0.0.1:${server.port}${workload.path}`, '--', String(requests),
  ]);
  let interrupted = false;
  const watch = setInterval(() => {
    // count.lua has its share: wrk would sleep out its -d, so it is interrupted (it reports then).
    if (!interrupted && wrk.output().includes('SOAK-DONE')) {
      interrupted = true;
      process.kill(wrk.pid, 'SIGINT');
    }
  }, 20);
  try {
    await wrk.done;
  } finally {
    clearInterval(watch);
    clearInterval(sampling);
    await stop(wrk.pid);
  }
  const endedAt = Date.now();
  samples.push({ at: endedAt, snapshot: sample(server) });
  const line = /^SOAK (.*)$/m.exec(wrk.output());
  if (line === null) throw new Error(`wrk gave no result: ${wrk.output().trim().slice(-300)}`);
  const result = JSON.parse(line[1]);
  const share = (at) => Math.min(1, (at - startedAt) / Math.max(1, endedAt - startedAt));
  return { result, samples: samples.map(({ at, snapshot }) => ({ served: Math.round(result.responses * share(at)), snapshot })) };
}

/** The server's processes now: the master's and each worker's RSS (KiB) and open descriptors. */
function sample(server) {
  const workers = livePids(server.pid).sort((a, b) => a - b);
  return {
    master: { rss: rssKiB(server.pid), fds: fdCount(server.pid) },
    workers: new Map(workers.map((pid) => [pid, { rss: rssKiB(pid), fds: fdCount(pid) }])),
  };
}

const descriptors = (snapshot) => [snapshot.master.fds, ...[...snapshot.workers.values()].map((w) => w.fds)];

/** The server once its descriptors have held still for half a second (the copies of closed connections gone; at most 5 s). */
async function settled(server) {
  let last = sample(server);
  let still = 0;
  for (const end = Date.now() + 5000; still < 5 && Date.now() < end; ) {
    await sleep(100);
    const now = sample(server);
    still = descriptors(now).join() === descriptors(last).join() ? still + 1 : 0;
    last = now;
  }
  return last;
}

/** Waits (up to 5 s) until the server's processes hold as many descriptors as in `before`. */
async function idleDescriptors(server, before) {
  let now = sample(server);
  await waitFor(
    () => {
      now = sample(server);
      return descriptors(now).join() === descriptors(before).join();
    },
    { timeoutMs: 5000, intervalMs: 100 },
  ).catch(() => {});
  return now;
}

const mib = (kib) => kib / 1024;
const fmt = (n, digits = 2) => n.toFixed(digits);
const thousands = (n) => n.toLocaleString('en-US');

/**
 * A memory figure over the last half of the run, for each process: its upper envelope (the
 * highest sample of each of WINDOWS equal spans of requests: V8 shrinks an idle heap between
 * slices and grows it again under load, so single RSS samples swing by 10 MiB or more), or its
 * lower one (`envelopeOf` 'floor': the live memory, whose transient peaks are buffers still
 * being freed while a leak raises the floor), the
 * least-squares slope of the envelope's last half, and how far the last half's peak rises over
 * the first half's.
 */
function trends(points, pids, pick, envelopeOf = 'top') {
  const keep = envelopeOf === 'top' ? (kib, held) => kib > held : (kib, held) => kib < held;
  return pids.map((pid) => {
    const series = points.map(({ requests, snapshot }) => [requests, pick(snapshot, pid)]).filter(([, kib]) => kib !== null && kib !== undefined);
    const first = series[0][0];
    const width = (series[series.length - 1][0] - first) / WINDOWS || 1;
    const envelope = [];
    for (const [requests, kib] of series) {
      const window = Math.min(WINDOWS - 1, Math.floor((requests - first) / width));
      if (envelope[window] === undefined || keep(kib, envelope[window][1])) envelope[window] = [first + (window + 0.5) * width, kib];
    }
    const peak = (windows) => Math.max(...windows.filter(Boolean).map(([, kib]) => kib));
    const last = envelope.slice(WINDOWS / 2).filter(Boolean);
    const slope = fitSlope(last); // KiB per request
    const span = (WINDOWS / 2) * width;
    return {
      pid,
      perHundredK: mib(slope * 100_000),
      growth: mib(slope * span),
      newHigh: mib(peak(envelope.slice(WINDOWS / 2)) - peak(envelope.slice(0, WINDOWS / 2))),
      peak: mib(peak(envelope)),
      span,
      samples: last.length,
      envelope: envelope.filter(Boolean).map(([, kib]) => mib(kib)),
    };
  });
}

/** The bound on a figure's rise over the last half: the slope's, or a short run's noise. */
const allowed = (trend) => (trend.span < SHORT_RUN ? NOISE_MIB : (SLOPE_MIB_PER_100K * trend.span) / 100_000);
const describeTrend = (trend) =>
  `${fmt(trend.perHundredK)} MiB/100k (${fmt(trend.growth)} MiB over the last ${thousands(Math.round(trend.span))} requests; envelope ${trend.envelope.map((v) => fmt(v, 0)).join(' ')} MiB)`;
const bound = (trend) =>
  trend.span < SHORT_RUN ? `a short run (< ${thousands(SHORT_RUN)} requests in the last half): < ${NOISE_MIB} MiB growth (only a gross leak shows)` : `< ${SLOPE_MIB_PER_100K} MiB per 100k requests over the last half`;

/** A slope row: kept when the fitted growth of every process's last half is within the bound; the steepest shown. */
function slopeRow(summary, label, all) {
  const worst = all.reduce((a, b) => (b.perHundredK > a.perHundredK ? b : a));
  const ok = all.every((trend) => trend.samples >= 2 && trend.growth < allowed(trend));
  summary.add(label, describeTrend(worst), bound(worst), ok);
  return ok;
}

/**
 * An RSS row: kept for each process when the fitted growth of its last half is within the bound,
 * or when its last half reaches no new high beyond the bound (a flat line with dips), or, for a
 * worker whose live memory is flat (`liveFlat`), when it stays under RSS_CEILING_MIB: V8 sizing
 * its heap (heapTotal grows in steps to ~45 MiB while the live heap stays ~7 MiB) takes a worker
 * some 250k requests of this mix, more than a 1M soak deals each of its eight workers.
 */
function rssRow(summary, label, all, liveFlat = false) {
  const verdict = (trend) =>
    trend.samples < 2 ? null
    : trend.growth < allowed(trend) ? 'slope'
    : trend.newHigh < allowed(trend) ? 'no new high'
    : liveFlat && trend.peak < RSS_CEILING_MIB ? `below ${RSS_CEILING_MIB} MiB, live memory flat`
    : null;
  const failing = all.find((trend) => verdict(trend) === null);
  const shown = failing ?? all.reduce((a, b) => (b.perHundredK > a.perHundredK ? b : a));
  const how = [...new Set(all.map(verdict).filter(Boolean))].join(', ');
  summary.add(
    label,
    `${describeTrend(shown)}${failing ? '' : `; kept by: ${how}`}`,
    `${bound(shown)}; or no new high beyond that${liveFlat ? `; or < ${RSS_CEILING_MIB} MiB with the live memory flat` : ''}`,
    failing === undefined,
  );
}

/** Each worker's live memory (heapUsed + external after a full GC), asked of the app (/soak/memory) on new connections until every worker answered. */
async function liveMemory(server, workers) {
  const live = new Map();
  for (let tries = 0; live.size < workers.length && tries < workers.length * 10; tries++) {
    const response = await fetch(`http://127.0.0.1:${server.port}/soak/memory`, { headers: { connection: 'close' } });
    const { pid, live: bytes } = await response.json();
    live.set(pid, bytes / 1024);
  }
  return live;
}

async function main() {
  const count = countArgument(process.argv[2], 1_000_000);
  if (count < WORKLOADS.length * APPS.length) throw new Error(`at least ${WORKLOADS.length * APPS.length} requests`);
  const rounds = Math.max(1, Math.ceil(count / ROUND));
  const warmRounds = rounds > 1 ? Math.ceil(rounds * WARM_UP) : 0;
  const share = Math.ceil(count / (rounds * WORKLOADS.length * APPS.length));
  const warmUp = warmRounds * share * WORKLOADS.length * APPS.length;
  const deadline = Date.now() + Math.max(120, (count + warmUp) / SLOWEST_RPS) * 1000;
  const summary = new Summary(
    `soak: ${thousands(count)} requests${warmUp > 0 ? ` after ${thousands(warmUp)} of warm-up` : ''}, ${WORKLOADS.length} workloads x ${APPS.length} apps, ${WORKERS} workers each`,
  );
  const servers = [];
  const stopServers = () => Promise.all(servers.map((server) => server.stop()));
  const interrupt = onInterrupt(async () => {
    await stopAll();
    await stopServers();
  });
  const t0 = Date.now();
  try {
    // --expose-gc: /soak/memory measures the live memory after a full GC.
    const env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim() };
    for (const app of APPS) servers.push(await startServer([`--workers=${WORKERS}`, app.file], { timeoutMs: 15000, env }));
    const runs = APPS.map((app, i) => ({ app, server: servers[i], requests: 0, measured: 0, points: [], live: [], before: null, firstWorkers: null }));
    for (const run of runs) {
      run.firstWorkers = await waitFor(() => (livePids(run.server.pid).length === WORKERS ? livePids(run.server.pid).sort((a, b) => a - b) : null), { timeoutMs: 15000 });
      run.checkedBefore = await answersRight(run.server.port);
    }
    const failures = { not_2xx: 0, connect: 0, read: 0, write: 0, timeout: 0 };
    let finished = true;
    for (let round = 0; round < warmRounds + rounds && finished; round++) {
      const measured = round >= warmRounds;
      for (const workload of WORKLOADS) {
        for (const run of runs) {
          if (Date.now() > deadline) {
            finished = false;
            break;
          }
          process.env.SOAK_WORKLOAD = file(`../bench/wrk/${workload.script}`); // for count.lua: wrk inherits it
          const { result, samples } = await slice(run.server, workload, share);
          for (const key of Object.keys(failures)) failures[key] += result[key];
          if (measured) for (const { served, snapshot } of samples) run.points.push({ requests: run.measured + served, snapshot });
          run.requests += result.responses;
          if (measured) run.measured += result.responses;
          if (measured) run.live.push({ requests: run.measured, snapshot: await liveMemory(run.server, run.firstWorkers) });
        }
      }
      // After the first round every workload has been met once: the descriptors of an idle server.
      if (round === 0) for (const run of runs) run.before = await settled(run.server);
      const total = runs.reduce((sum, run) => sum + run.requests, 0);
      process.stderr.write(`soak: round ${round + 1}/${warmRounds + rounds}${measured ? '' : ' (warm-up)'}: ${thousands(total)} requests, ${Math.round((Date.now() - t0) / 1000)} s\n`);
    }

    const total = runs.reduce((sum, run) => sum + run.requests, 0);
    const measuredTotal = runs.reduce((sum, run) => sum + run.measured, 0);
    summary.add(
      'requests',
      `${thousands(measuredTotal)} measured (${runs.map((run) => `${run.app.name} ${thousands(run.measured)}`).join(', ')}), ${thousands(total)} with the warm-up, in ${Math.round((Date.now() - t0) / 1000)} s`,
      `≥ ${thousands(count)}, within ${Math.round((deadline - t0) / 1000)} s`,
      finished && measuredTotal >= count,
    );
    const failed = failures.not_2xx + failures.connect + failures.read + failures.write + failures.timeout;
    summary.add(
      'failed requests (warm-up included)',
      `${failed} (non-2xx ${failures.not_2xx}; wrk socket errors: connect ${failures.connect}, read ${failures.read}, write ${failures.write}, timeout ${failures.timeout})`,
      '0',
      failed === 0,
    );
    for (const run of runs) {
      const last = run.points[run.points.length - 1].snapshot;
      const workers = [...last.workers.keys()];
      summary.add(`${run.app.name}: the same workers throughout`, workers.join(', '), `the ${WORKERS} started: ${run.firstWorkers.join(', ')}`, workers.join() === run.firstWorkers.join());
      const liveFlat = slopeRow(
        summary,
        `${run.app.name}: worker live memory after a full GC, its floor (steepest of ${workers.length})`,
        trends(run.live, workers, (live, pid) => live.get(pid), 'floor'),
      );
      rssRow(summary, `${run.app.name}: worker RSS (steepest of ${workers.length})`, trends(run.points, workers, (snapshot, pid) => snapshot.workers.get(pid)?.rss), liveFlat);
      rssRow(summary, `${run.app.name}: master RSS`, trends(run.points, [run.server.pid], (snapshot) => snapshot.master.rss));
      const rssNow = (snapshot) => [snapshot.master.rss, ...[...snapshot.workers.values()].map((w) => w.rss)].map((kib) => fmt(mib(kib), 1));
      process.stderr.write(`soak: ${run.app.name}: RSS MiB master, workers: after round 1 ${rssNow(run.before).join(' ')}; at the end ${rssNow(last).join(' ')}\n`);
      const after = await idleDescriptors(run.server, run.before);
      summary.add(
        `${run.app.name}: open fds, master + workers, idle`,
        `${descriptors(after).join(' + ')} after; ${descriptors(run.before).join(' + ')} after round 1`,
        'the same after as before',
        descriptors(after).join() === descriptors(run.before).join(),
      );
      const checkedAfter = await answersRight(run.server.port);
      const word = (right) => (right ? 'right' : 'WRONG');
      summary.add(`${run.app.name}: answers checked before and after`, `${word(run.checkedBefore)}, ${word(checkedAfter)}`, 'right', run.checkedBefore && checkedAfter);
    }
  } finally {
    await stopAll();
    await stopServers();
    interrupt.remove();
  }
  summary.finish();
}

main().catch(async (error) => {
  console.error(`soak: ${error.stack ?? error.message}`);
  await stopAll();
  process.exitCode = 1;
});
