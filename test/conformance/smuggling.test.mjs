// Every case of smuggling-cases.json (a copy of the project's shared
// conformance suite, kept here so a fresh clone tests alone), through a real
// socket, sent whole and split in two at every byte boundary (the first k
// bytes, a pause so the server reads them separately, then the rest; the
// three long cases near their structure and limits, see splitsOf()), must
// come out as the case says:
//
//   reject: exactly one final response, from the server (no `x-app`), status
//           >= 400, `Connection: close`, then the server's FIN; and the app
//           was never handed a complete request (at most the head of one whose
//           body the server then refused).
//   accept: `responses` answers from the app, in order, none for /smuggled;
//           then, with `must_close`, the server's FIN after a `Connection:
//           close` answer. Without it the connection must still be in step:
//           a sentinel request sent after the answers must get the next answer
//           (unless the last answer said close and the server closed).
//   either_ok: either of the two passes.
//
// Each connection comes from its own loopback address (127.x.y.z), which the
// app (test/fixtures/echo-app.mjs) records with every request it is handed,
// so the test knows what reached the app on which connection. The whole suite
// runs twice: against a Fetch app, parsed by starlight, and against the same
// app as a Node app (test/fixtures/echo-node-app.mjs), parsed by node:http.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { RawConnection, parseResponses } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const CASES_FILE = new URL('./smuggling-cases.json', import.meta.url);
/** The same app as a Fetch app (starlight's parser) and as a Node app (node:http's, with starlight's checks around it). */
const APPS = [
  ['Fetch', new URL('../fixtures/echo-app.mjs', import.meta.url).pathname],
  ['Node', new URL('../fixtures/echo-node-app.mjs', import.meta.url).pathname],
];
const CASES = JSON.parse(readFileSync(CASES_FILE, 'utf8')).map((c) => ({ ...c, raw: Buffer.from(c.raw_base64, 'base64') }));
/**
 * Connections open at once, and the pause between the two pieces of a split request. Whether
 * the server reads the pieces separately cannot be seen from here; measured with a counting
 * server on a loaded 2-core machine: 8 at a time with 3 ms, 96% of split runs; 64 at a time,
 * about half (the busy server finds both pieces waiting), whatever the pause.
 */
const CONCURRENCY = Number(process.env.SMUGGLING_CONCURRENCY ?? 8);
const PAUSE_MS = Number(process.env.SMUGGLING_PAUSE_MS ?? 3);
/** Longest wait for the server to answer or close; it answers these in well under a millisecond. */
const WAIT_MS = 5000;
const SENTINEL = Buffer.from('GET /__sentinel HTTP/1.1\r\nHost: sentinel.test\r\nConnection: close\r\n\r\n', 'latin1');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A case up to this long is split at every byte boundary. */
const SPLIT_EVERYWHERE_UP_TO = 1024;
/** In a longer one: every boundary within EDGE bytes of where something changes... */
const EDGE = 16;
/** ...and every STRIDE-th elsewhere. */
const STRIDE = 32;
/** The limits a long case goes past are multiples of this (see splitsOf()). */
const LIMIT_UNIT = 1024;

/**
 * Where to split a case (0: sent whole). The three of ~20 KB are each a long run of one byte (a
 * Cookie, a request target, a chunk extension) going past a limit; split at every byte they held
 * 58,000 of the 65,000 connections per app, nearly all in the middle of a run, where one split
 * reads like the next. There: every boundary near a change of byte value (their structure), near
 * each multiple of 1 KiB counted from the start and from the run's start (the limits, starlight's
 * and node:http's, are multiples of 1 KiB counted from one or the other: the request line and
 * the head from the start, chunk extensions from their own), and every STRIDE-th between.
 */
function splitsOf(raw) {
  if (raw.length <= SPLIT_EVERYWHERE_UP_TO) return Array.from({ length: raw.length }, (_, i) => i);
  const splits = new Set();
  const around = (at) => {
    for (let i = Math.max(0, at - EDGE); i <= Math.min(raw.length - 1, at + EDGE); i++) splits.add(i);
  };
  const origins = [0];
  around(raw.length);
  for (let i = 1; i < raw.length; i++) {
    if (raw[i] === raw[i - 1]) continue;
    around(i);
    let end = i + 1;
    while (end < raw.length && raw[end] === raw[i]) end++;
    if (end - i > SPLIT_EVERYWHERE_UP_TO) origins.push(i);
  }
  for (const origin of origins) for (let at = origin; at < raw.length; at += LIMIT_UNIT) around(at);
  for (let i = 0; i < raw.length; i += STRIDE) splits.add(i);
  return [...splits].sort((x, y) => x - y);
}

/** The i-th connection's own client address. */
function addressOf(i) {
  return `127.${1 + Math.floor(i / 62500)}.${Math.floor((i % 62500) / 250)}.${1 + (i % 250)}`;
}

/** Whether this system lets a client bind 127.x.y.z (Linux does; elsewhere only 127.0.0.1 may exist). */
async function canTagConnections(port) {
  try {
    const c = await RawConnection.connect(port, { localAddress: '127.1.0.1' });
    c.destroy();
    return true;
  } catch {
    return false;
  }
}

/** Sends one case, split at `split` (0: whole), and collects what came back. */
async function runOne(port, kase, split, localAddress) {
  const connection = await RawConnection.connect(port, { localAddress });
  const raw = kase.raw;
  if (split === 0) {
    connection.write(raw);
  } else {
    connection.write(raw.subarray(0, split));
    await sleep(PAUSE_MS);
    if (connection.closed === null) connection.write(raw.subarray(split));
  }
  const wanted = kase.responses ?? 1;
  await connection.until((c) => {
    const parsed = c.parse();
    return c.closed !== null || parsed.error !== null || parsed.responses.length >= wanted;
  }, WAIT_MS);
  let sentinel = false;
  if (connection.closed === null && connection.parse().error === null) {
    sentinel = connection.write(SENTINEL);
  }
  const closed = await connection.waitClosed(WAIT_MS);
  connection.destroy();
  return { data: connection.data, closed, sentinel, errorCode: connection.errorCode };
}

function describeRun(run, seen) {
  const parsed = run.parsed;
  const responses = parsed.all.map((r) => `${r.status}${r.header('x-app') ? ` app "${r.text}"` : ''}${r.close ? ' +close' : ''}`);
  const parts = [`closed=${run.closed}${run.errorCode ? ` (${run.errorCode})` : ''}`, `responses=[${responses.join(', ')}]`];
  if (parsed.error) parts.push(`framing error: ${parsed.error}`);
  if (parsed.leftover.length) parts.push(`leftover ${JSON.stringify(parsed.leftover.latin1Slice(0, 120))}`);
  if (run.sentinel) parts.push('sentinel sent');
  if (seen !== undefined) parts.push(`app handed [${seen.map((e) => `${e.method} ${e.path} body:${e.body}`).join(', ')}]`);
  return parts.join('; ');
}

/** Why the run is not a correct rejection, or null. */
function notRejected(run, seen) {
  const { parsed } = run;
  if (parsed.error) return 'framing error';
  if (parsed.interim.some((r) => r.status !== 100)) return 'an interim response other than 100';
  if (parsed.responses.length !== 1) return `${parsed.responses.length} final responses`;
  const [response] = parsed.responses;
  if (response.header('x-app')) return 'the app answered';
  if (response.status < 400) return `status ${response.status}`;
  if (!response.close) return 'no Connection: close';
  if (run.closed !== 'fin') return `connection ${run.closed}`;
  if (seen !== undefined && seen.some((e) => e.body !== 'error')) return 'the app was handed a complete request';
  return null;
}

/** Why the run is not a correct acceptance, or null. */
function notAccepted(kase, run, seen) {
  const { parsed } = run;
  const n = kase.responses ?? 1;
  if (parsed.error) return 'framing error';
  if (parsed.interim.some((r) => r.status !== 100)) return 'an interim response other than 100';
  const finals = parsed.responses;
  if (finals.length < n) return `${finals.length} of ${n} responses`;
  for (const r of finals) {
    if (!r.header('x-app')) return `a server response (${r.status})`;
    if (r.status !== 200) return `status ${r.status}`;
    if (/ \/smuggled /.test(r.text)) return 'answered /smuggled';
  }
  const answered = finals.length === n + 1 && finals[n].text === 'GET /__sentinel 0';
  if (finals.length > n && !answered) return `${finals.length} responses for ${n} requests`;
  if (run.closed !== 'fin') return `connection ${run.closed}`;
  if (kase.must_close) {
    if (answered) return 'kept the connection open (the sentinel was answered)';
    if (!finals[n - 1].close) return 'no Connection: close';
  } else if (!answered && !finals[n - 1].close) {
    return 'closed without Connection: close, or the sentinel was not answered';
  }
  if (seen !== undefined) {
    if (seen.length !== finals.length) return `the app was handed ${seen.length} requests`;
    if (seen.some((e) => e.body === 'error' || e.path === '/smuggled')) return 'the app was handed a bad request';
  }
  return null;
}

for (const [kind, APP] of APPS) describe(`smuggling and edge-case requests (shared/conformance), a ${kind} app`, () => {
  let server;
  const results = new Map(CASES.map((c) => [c.name, { runs: 0, failures: [], statuses: new Map() }]));
  let tagged = false;

  before(async () => {
    server = await startServer(['--workers=0', APP]);
    tagged = await canTagConnections(server.port);
    // Every (case, split), spread over CONCURRENCY lanes.
    const jobs = [];
    for (const kase of CASES) for (const split of splitsOf(kase.raw)) jobs.push({ kase, split });
    const runs = new Array(jobs.length);
    let next = 0;
    const lane = async () => {
      while (next < jobs.length) {
        const i = next++;
        const { kase, split } = jobs[i];
        const run = await runOne(server.port, kase, split, tagged ? addressOf(i) : undefined);
        run.parsed = parseResponses(run.data, { closed: run.closed !== 'timeout' });
        runs[i] = run;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    // What the app was handed, per connection.
    let seenByAddress = {};
    if (tagged) {
      const c = await RawConnection.connect(server.port);
      c.write('GET /__seen HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
      const parsed = await c.responses(1, {}, WAIT_MS);
      c.destroy();
      seenByAddress = JSON.parse(parsed.responses[0].text);
    }
    for (let i = 0; i < jobs.length; i++) {
      const { kase, split } = jobs[i];
      const run = runs[i];
      const seen = tagged ? (seenByAddress[addressOf(i)] ?? []) : undefined;
      const result = results.get(kase.name);
      result.runs++;
      const rejectWhy = notRejected(run, seen);
      const acceptWhy = notAccepted(kase, run, seen);
      const ok = kase.expect === 'reject' ? rejectWhy === null || (kase.either_ok && acceptWhy === null) : acceptWhy === null || (kase.either_ok && rejectWhy === null);
      if (rejectWhy === null) {
        const status = run.parsed.responses[0].status;
        result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
      }
      if (!ok) {
        const why = kase.expect === 'reject' ? rejectWhy : acceptWhy;
        const where = split === 0 ? 'sent whole' : `split at byte ${split} of ${kase.raw.length}`;
        result.failures.push(`${where}: expected ${kase.expect}${kase.either_ok ? ' (either ok)' : ''}, but ${why}: ${describeRun(run, seen)}`);
      }
    }
  });

  after(async () => {
    await server?.stop();
  });

  test('the client tags each connection with its own address (else what reached the app is not checked)', (t) => {
    if (!tagged) t.skip('cannot bind 127.x.y.z here: only the responses are checked');
  });

  for (const kase of CASES) {
    test(`${kase.name} (${kase.category}): ${kase.expect}${kase.either_ok ? ', either ok' : ''}`, (t) => {
      const result = results.get(kase.name);
      assert.equal(result.runs, splitsOf(kase.raw).length, 'every split was run');
      if (kase.expect === 'reject' && result.statuses.size > 0 && !(result.statuses.size === 1 && result.statuses.has(kase.status))) {
        t.diagnostic(`rejected with ${[...result.statuses].map(([s, n]) => `${s} (${n}x)`).join(', ')}; the case names ${kase.status}`);
      }
      const failures = result.failures;
      assert.ok(
        failures.length === 0,
        `${kase.name}: ${failures.length} of ${result.runs} runs failed\n  raw: ${JSON.stringify(kase.raw_preview.slice(0, 200))}\n  ` +
          failures.slice(0, 5).join('\n  '),
      );
    });
  }
});
