// `npm run chaos [-- SECONDS]`: five scenarios of 60 s each (or SECONDS), each against a fresh
// server of 4 workers on 127.0.0.1 serving test/fixtures/process-app.mjs (every answer names the
// worker's pid), under a steady load of a Node client (test/helpers/process.mjs's startLoad:
// KEEP_ALIVE keep-alive loops and ONE_SHOT loops of a connection per request) that follows every
// request to its outcome:
//   kill      SIGKILL to a random worker every second: only requests in flight on the killed
//             worker may fail. At each kill the client notes the requests it has in flight on
//             that worker's connections (a connection's worker is the pid its last answer
//             named) and on new connections (no answer yet: their worker is not known, so they
//             count as possibly the killed one's); every failure must be one of those. The
//             client sends nothing more on a killed worker's connections (a real client learns
//             of it from the FIN a moment later).
//   hup       SIGHUP every 2 s: rolling restarts, zero failed requests.
//   ttin-ttou SIGTTIN and SIGTTOU in turn every second: zero failed requests.
//   recycle   --max-reqs-per-child=1000: workers replaced all the time, zero failed requests.
//   faults    an app that throws on 1% of requests (answered 500) and blocks its event loop for
//             good on 0.1% (sent only on a connection whose worker is known and not already
//             hung), --worker-timeout=2: every other request answered 200, but for those on the
//             hung worker (in flight on its connections when it hung, or sent on them since, or
//             on new connections while it hung); each hung worker replaced (counted from the
//             master's log).
// `npm run chaos -- SECONDS NAME...` runs only the scenarios named; CHAOS_DEBUG=1 prints each
// server's log after its scenario. Every process started here is stopped by its pid, at the end
// and on SIGINT.
import { APP, isAlive, livePids, sleep, startLoad, waitFor, waitForWorkers } from '../test/helpers/process.mjs';
import { startServer } from '../test/helpers/server.mjs';
import { onInterrupt } from './measure.mjs';
import { countArgument, Summary } from './summary.mjs';

const WORKERS = 4;
const KEEP_ALIVE = 6;
const ONE_SHOT = 2;
const THROW_SHARE = 0.01;
const HANG_SHARE = 0.001;
const HANG = '/block?ms=600000';
/** Short, for hung workers to be replaced soon; not so short that a worker booting on a busy machine misses it. */
const WORKER_TIMEOUT_S = 2;

/** Every request's outcome, and the requests in flight now. */
function follow() {
  const inFlight = new Set();
  const outcomes = { ok: 0, failed: [] };
  return {
    inFlight,
    outcomes,
    watch: {
      sent: (request) => inFlight.add(request),
      ended: (request) => {
        inFlight.delete(request);
        if (request.response?.status === 200) outcomes.ok++;
        else outcomes.failed.push(request);
      },
    },
  };
}

const describe = (request) => (request.error ? request.error.message : `status ${request.response.status}`);
const count = (items, predicate) => items.filter(predicate).length;
const thousands = (n) => n.toLocaleString('en-US');
const matches = (text, pattern) => (text.match(pattern) ?? []).length;
/** A few failures, for the table: what they were. */
const sampleOf = (requests) => [...new Set(requests.map(describe))].slice(0, 3).join('; ');

const SCENARIOS = {
  kill: {
    title: 'SIGKILL a random worker every second',
    args: [],
    async run({ server, seconds, summary }) {
      const { inFlight, outcomes, watch } = follow();
      const killed = new Set();
      const exposure = { known: 0, unknown: 0 };
      const load = startLoad(server.port, { keepAlive: KEEP_ALIVE, oneShot: ONE_SHOT, watch: { ...watch, gone: (worker) => killed.has(worker) } });
      for (let second = 0; second < seconds; second++) {
        await sleep(1000);
        const workers = livePids(server.pid);
        const victim = workers[Math.floor(Math.random() * workers.length)];
        if (victim === undefined) continue;
        process.kill(victim, 'SIGKILL');
        killed.add(victim);
        // At the kill, in the same turn of the event loop: what the client has in flight on it.
        for (const request of inFlight) {
          if (request.worker === victim) exposure.known++;
          else if (request.worker === null) exposure.unknown++;
          else continue;
          request.exposedTo = victim;
        }
      }
      await load.stop();
      const failed = outcomes.failed;
      const unexplained = failed.filter((request) => request.exposedTo === undefined);
      summary.add('kill: workers killed', killed.size, `one a second (${seconds})`, killed.size >= seconds - 1);
      summary.add('kill: requests answered 200', thousands(outcomes.ok), '> 0', outcomes.ok > 0);
      summary.add(
        'kill: failed requests, each in flight on the killed worker at its kill',
        `${failed.length} failed (${count(failed, (r) => r.worker !== null)} on its connections, ${count(failed, (r) => r.worker === null)} on new ones); in flight at the kills: ${exposure.known} on its connections + ${exposure.unknown} on new connections`,
        '≤ those in flight',
        failed.length <= exposure.known + exposure.unknown,
      );
      summary.add('kill: failures not in flight on a killed worker', unexplained.length === 0 ? '0' : `${unexplained.length}: ${sampleOf(unexplained)}`, '0', unexplained.length === 0);
      return { killed };
    },
  },
  hup: {
    title: 'SIGHUP every 2 s',
    args: [],
    async run({ server, seconds, summary }) {
      const { outcomes, watch } = follow();
      const load = startLoad(server.port, { keepAlive: KEEP_ALIVE, oneShot: ONE_SHOT, watch });
      const first = livePids(server.pid);
      let sent = 0;
      let lastHup = 0;
      for (let at = 2; at <= seconds; at += 2) {
        await sleep(2000);
        lastHup = server.stderr.length;
        process.kill(server.pid, 'SIGHUP');
        sent++;
      }
      await sleep((seconds % 2) * 1000);
      // The load goes on until the last HUP's restart is done.
      const finished = await waitFor(() => server.stderr.slice(lastHup).includes('rolling restart done'), { timeoutMs: 30000 }).catch(() => false);
      await load.stop();
      const rolls = matches(server.stderr, /rolling restart done/g);
      summary.add('hup: HUPs sent, rolling restarts done', `${sent}, ${rolls}`, 'the last HUP\'s restart done', finished);
      summary.add('hup: first workers all replaced', `${count(first, isAlive)} of ${first.length} left`, '0 left', count(first, isAlive) === 0);
      failedRow(summary, 'hup', outcomes);
    },
  },
  'ttin-ttou': {
    title: 'SIGTTIN and SIGTTOU in turn every second',
    args: [],
    async run({ server, seconds, summary }) {
      const { outcomes, watch } = follow();
      const load = startLoad(server.port, { keepAlive: KEEP_ALIVE, oneShot: ONE_SHOT, watch });
      const seen = new Set();
      const signals = seconds - (seconds % 2); // TTOU last: back to WORKERS
      for (let second = 0; second < signals; second++) {
        await sleep(1000);
        process.kill(server.pid, second % 2 === 0 ? 'SIGTTIN' : 'SIGTTOU');
        seen.add(livePids(server.pid).length);
      }
      await waitForWorkers(server.pid, WORKERS, 15000).catch(() => {});
      await load.stop();
      summary.add('ttin-ttou: signals sent; worker counts seen', `${signals}; ${[...seen].sort().join(', ')}`, `${WORKERS + 1} seen`, seen.has(WORKERS + 1));
      failedRow(summary, 'ttin-ttou', outcomes);
    },
  },
  recycle: {
    title: '--max-reqs-per-child=1000',
    args: ['--max-reqs-per-child=1000'],
    async run({ server, seconds, summary }) {
      const { outcomes, watch } = follow();
      const load = startLoad(server.port, { keepAlive: KEEP_ALIVE, oneShot: ONE_SHOT, watch });
      await sleep(seconds * 1000);
      await load.stop();
      const recycled = matches(server.stderr, /is recycled/g);
      summary.add('recycle: workers recycled', recycled, `about one per 1,000 requests (${thousands(outcomes.ok)} answered)`, recycled >= Math.floor(outcomes.ok / 1000 / 2));
      failedRow(summary, 'recycle', outcomes);
    },
  },
  faults: {
    title: `an app that throws on ${THROW_SHARE * 100}% and hangs on ${HANG_SHARE * 100}% of requests, --worker-timeout=${WORKER_TIMEOUT_S}`,
    args: [`--worker-timeout=${WORKER_TIMEOUT_S}`],
    async run({ server, seconds, summary }) {
      const { inFlight, outcomes, watch } = follow();
      const hung = new Set(); // workers sent a hang
      const hanging = () => [...hung].filter(isAlive); // …and not replaced yet
      const choose = (worker) => {
        const draw = Math.random();
        if (draw < THROW_SHARE) return '/throw';
        if (draw < THROW_SHARE + HANG_SHARE && worker !== null && !hung.has(worker)) {
          hung.add(worker);
          for (const request of inFlight) if (request.worker === worker || request.worker === null) request.exposed = true;
          return HANG;
        }
        return '/';
      };
      const sent = (request) => {
        if (request.path !== HANG && ((request.worker !== null && hung.has(request.worker) && isAlive(request.worker)) || (request.worker === null && hanging().length > 0))) request.exposed = true;
        watch.sent(request);
      };
      const load = startLoad(server.port, { keepAlive: KEEP_ALIVE, oneShot: ONE_SHOT, watch: { ...watch, path: choose, sent } });
      await sleep(seconds * 1000);
      await load.stop();
      // The last hung workers are killed within the timeout and a heartbeat or two.
      await waitFor(() => hanging().length === 0, { timeoutMs: 10000, message: 'the hung workers to be killed' }).catch(() => {});
      const all = outcomes.failed;
      const byPath = (path) => all.filter((request) => request.path === path);
      const throws = byPath('/throw');
      const hangs = byPath(HANG);
      const others = byPath('/');
      const thrownAnswered = count(throws, (request) => request.response?.status === 500);
      const replaced = new Set([...server.stderr.matchAll(/\(pid (\d+)\) sent no heartbeat/g)].map((found) => Number(found[1])));
      const notHung = [...replaced].filter((pid) => !hung.has(pid));
      summary.add('faults: requests answered 200', thousands(outcomes.ok), '> 0', outcomes.ok > 0);
      summary.add('faults: throwing requests answered 500', `${thrownAnswered} of ${throws.length} (others were on a hung worker: ${count(throws, (r) => r.exposed)})`, 'all but those on a hung worker', thrownAnswered + count(throws, (r) => r.response?.status !== 500 && r.exposed) === throws.length);
      summary.add(
        'faults: hanging requests; hung workers replaced',
        `${hung.size} sent, ${count(hangs, (r) => r.error)} cut; ${count([...hung], (pid) => replaced.has(pid))} of the ${hung.size} hung workers replaced, ${notHung.length} others`,
        'every hung worker replaced, no other',
        [...hung].every((pid) => replaced.has(pid)) && notHung.length === 0,
      );
      const unexplained = others.filter((request) => !request.exposed);
      summary.add(
        'faults: other requests not answered 200',
        `${others.length} (on a hung worker: ${count(others, (r) => r.exposed)}; elsewhere: ${unexplained.length}${unexplained.length ? `: ${sampleOf(unexplained)}` : ''})`,
        '0 but those on a hung worker',
        unexplained.length === 0,
      );
    },
  },
};

/** The row every scenario but kill and faults ends with: no request failed. */
function failedRow(summary, name, outcomes) {
  const failed = outcomes.failed;
  summary.add(`${name}: failed requests`, failed.length === 0 ? `0 of ${thousands(outcomes.ok)}` : `${failed.length} of ${thousands(outcomes.ok + failed.length)}: ${sampleOf(failed)}`, '0', failed.length === 0);
}

async function main() {
  const seconds = countArgument(process.argv[2], 60);
  if (seconds < 2) throw new Error('at least 2 seconds a scenario');
  const names = process.argv.length > 3 ? process.argv.slice(3) : Object.keys(SCENARIOS);
  for (const name of names) if (!(name in SCENARIOS)) throw new Error(`no scenario ${name} (there are ${Object.keys(SCENARIOS).join(', ')})`);
  const summary = new Summary(`chaos: ${names.length} scenarios of ${seconds} s, ${WORKERS} workers, a load of ${KEEP_ALIVE} keep-alive and ${ONE_SHOT} connection-per-request loops`);
  let server = null;
  const interrupt = onInterrupt(() => server?.stop());
  try {
    for (const name of names) {
      const scenario = SCENARIOS[name];
      process.stderr.write(`chaos: ${name}: ${scenario.title}, ${seconds} s\n`);
      server = await startServer([`--workers=${WORKERS}`, ...scenario.args, APP], { timeoutMs: 15000 });
      try {
        await waitForWorkers(server.pid, WORKERS, 15000);
        await scenario.run({ server, seconds, summary });
        const back = await waitForWorkers(server.pid, WORKERS, 15000).then(() => true, () => false);
        summary.add(`${name}: ${WORKERS} workers at the end`, livePids(server.pid).length, String(WORKERS), back);
      } finally {
        if (process.env.CHAOS_DEBUG) process.stderr.write(server.stderr);
        await server.stop();
        server = null;
      }
    }
  } finally {
    interrupt.remove();
  }
  summary.finish();
}

main().catch((error) => {
  console.error(`chaos: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
