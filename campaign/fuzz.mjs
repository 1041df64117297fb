// Fuzz: three seeded campaigns, each printing the seed that replays it.
//
//   differential  test/differential/ (our parser against llhttp) on --diff
//                 inputs: no divergence but the deliberate ones it lists
//   structure     --count generated requests (heads, chunked bodies, framing
//                 fields, line endings; valid and mutated, one to three
//                 pipelined) sent through a real socket split at random points
//                 and half-closed, to a Fetch app and to a Node app: the
//                 worker never crashes, every connection is answered and
//                 closed within 5 s, and the responses are those the parser
//                 (src/http/parser.ts) fed the same bytes in this process
//                 predicts: one per request it completes, with the method and
//                 body length the app saw, then the status of its error. A
//                 Node app's requests are parsed by node:http (llhttp), which
//                 differs where test/differential/ lists: those answers are
//                 counted (served, another error status, refused earlier,
//                 closed earlier), and held to one answer per request, at most
//                 one refusal, nothing after a close
//   splitting     --echo requests per app to a Fetch app and a Node app that
//                 copy fuzzed status texts and header fields (CR, LF, NUL,
//                 characters beyond one byte) into their responses: nothing
//                 the raw response bytes hold is other than well-formed
//                 HTTP/1.1 (no CR, LF or NUL inside a field or the status
//                 line), and the workers survive
//
//   npm run fuzz -- [--diff=1M] [--count=20000] [--echo=5000] [--seed=N] [--only=differential,structure,splitting]

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RequestParser, State } from '../dist/http/parser.js';
import { Rng } from '../test/differential/prng.mjs';
import { RawConnection, httpRequest, parseResponses } from '../test/helpers/raw.mjs';
import { livePids } from '../test/helpers/proc.mjs';
import { waitFor } from '../test/helpers/wait.mjs';
import { machine, option, own, run, serve } from './common.mjs';
import { Summary, countArgument } from './summary.mjs';

const argv = process.argv.slice(2);
const DIFF = countArgument(option(argv, 'diff'), 1_000_000);
const COUNT = countArgument(option(argv, 'count'), 20000);
const ECHO = countArgument(option(argv, 'echo'), 5000);
const SEED = (option(argv, 'seed') === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(option(argv, 'seed'))) >>> 0;
const ONLY = new Set((option(argv, 'only') ?? 'differential,structure,splitting').split(','));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FETCH_APP = fileURLToPath(new URL('./apps/fuzz-app.mjs', import.meta.url));
const NODE_APP = fileURLToPath(new URL('./apps/fuzz-node-app.mjs', import.meta.url));
/** The server's limits at its defaults (src/http/limits.ts, --max-header-size, --max-headers). */
const SERVER_LIMITS = { maxHeaderSize: 16384, maxRequestLine: 8192, maxHeaders: 100, maxBodySize: Infinity, maxChunkExtensions: 16384 };
const ANSWER_MS = 5000;
const PARALLEL = 16;

const sizes = [[`differential`, `${DIFF} differential inputs`], ['structure', `${COUNT} socket inputs per app`], ['splitting', `${ECHO} echoed heads per app`]];
const summary = new Summary(`fuzz: ${sizes.filter(([name]) => ONLY.has(name)).map(([, size]) => size).join(', ')}, seed ${SEED} (${machine()})`);
process.stdout.write(`seed ${SEED} (replay: --seed=${SEED})\n`);
run(summary, async () => {
  if (ONLY.has('differential')) await differential();
  if (ONLY.has('structure')) {
    await structure('Fetch', FETCH_APP);
    await structure('Node', NODE_APP);
  }
  if (ONLY.has('splitting')) {
    await splitting('Fetch', FETCH_APP, ['fetch']);
    await splitting('Node', NODE_APP, ['setHeader', 'appendHeader', 'writeHead-object', 'writeHead-array']);
  }
});

// ---------------------------------------------------------------------------
// The differential test, as it runs in the suite, at the size asked.

async function differential() {
  const child = own(spawn(process.execPath, ['--test', '--test-concurrency=1', 'test/differential/llhttp.test.mjs'], {
    cwd: ROOT,
    // (NODE_TEST_CONTEXT, set when this script runs under node --test, would make the child report to that runner instead of printing.)
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_TEST_CONTEXT')), STARLIGHT_DIFF_COUNT: String(DIFF), STARLIGHT_DIFF_SEED: String(SEED) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }));
  let output = '';
  child.stdout.on('data', (data) => (output += data));
  const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? signal)));
  const stats = /# (\d+) inputs in ([\d.]+) s: (.*)/.exec(output);
  const failed = /(\d+) of (\d+) inputs differ from llhttp/.exec(output);
  if (code !== 0) process.stdout.write(output.slice(0, 20000));
  summary.add(
    `differential: inputs against llhttp (seed ${SEED})`,
    stats === null ? `no result (exit ${code})` : `${stats[1]} in ${stats[2]} s: ${stats[3]}`,
    'ran to the end',
    stats !== null && Number(stats[1]) === DIFF,
  );
  summary.add('differential: unexplained divergences', failed === null ? (code === 0 ? 0 : `exit ${code}`) : failed[1], '0', code === 0);
}

// ---------------------------------------------------------------------------
// Structure-aware requests.

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ODD = ['\r', '\n', '\r\n', ' ', '\t', '\x00', '\x01', '\x7f', '\x80', '\xff', ':', ';', ',', '"', '=', '\\'];
const NAMES = ['X-Test', 'Accept', 'User-Agent', 'Cookie', 'Content-Type', 'Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Expect', 'Trailer', 'TE'];

function fieldValue(r) {
  return r.weighted([
    [20, () => r.string(TCHAR + ' ', r.range(0, 20)).trim()],
    [1, () => r.string('\t \x80\xa0\xe9\xff\x00\x7f' + TCHAR, r.range(0, 10))],
    [1, () => 'x'.repeat(r.pick([100, 4000, 20000]))],
    [1, ''],
  ]);
}

function chunkedBody(r, eol) {
  let body = '';
  let sent = 0;
  const chunks = r.range(0, 4);
  for (let i = 0; i < chunks; i++) {
    const size = r.pick([1, 2, 5, 16, 100, 3000]);
    const ext = r.weighted([[12, ''], [1, ';a=b'], [1, ';name'], [1, ';q="x y"'], [1, () => ';' + r.string(TCHAR + ' ="', r.range(0, 8))]]);
    const sizeText = r.weighted([[20, size.toString(16)], [1, '0' + size.toString(16)], [1, size.toString(16).toUpperCase() + ' ']]);
    body += `${sizeText}${ext}${eol}${'z'.repeat(size)}${eol}`;
    sent += size;
  }
  body += `${r.pick(['0', '00', '0'])}${r.chance(0.2) ? ';last' : ''}${eol}`;
  if (r.chance(0.2)) body += `${r.weighted([[6, () => r.pick(['X-Trailer', 'Expires'])], [1, () => r.pick(['Content-Length', 'Transfer-Encoding', 'Bad Name'])]])}: ${fieldValue(r)}${eol}`;
  return body + eol;
}

function oneRequest(r) {
  const eol = r.weighted([[40, '\r\n'], [1, '\n'], [1, '\r']]);
  const method = r.weighted([[40, () => r.pick(['GET', 'GET', 'POST', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'])], [1, 'BREW']]);
  const target = r.weighted([[30, () => r.pick(['/', '/a', '/a/b?c=d', '/%41%00', 'http://x/y', '//', '/' + 'p'.repeat(100)])], [1, () => r.pick(['*', '/\x7f', '/' + 'p'.repeat(9000)])]]);
  const version = r.weighted([[40, '1.1'], [6, '1.0'], [1, () => r.pick(['1.2', '2.0', '0.9', '1.01', '11'])]]);
  const fields = [];
  if (version === '1.1' ? r.chance(0.98) : r.chance(0.5)) fields.push(['Host', r.weighted([[30, 'x'], [1, 'a b'], [1, '']])]);
  if (r.chance(0.02)) fields.push(['Host', 'y']);
  const extra = r.weighted([[30, () => r.range(0, 4)], [1, () => r.range(90, 110)]]);
  for (let i = 0; i < extra; i++) fields.push([r.weighted([[5, () => r.pick(NAMES.slice(0, 5))], [2, () => r.string(TCHAR, r.range(1, 12))]]), fieldValue(r)]);
  if (r.chance(0.15)) fields.push(['Connection', r.pick(['close', 'keep-alive', 'Close', 'close, foo', 'upgrade-not'])]);
  if (r.chance(0.05)) fields.push(['Expect', r.pick(['100-continue', '100-Continue', 'other'])]);
  let body = '';
  const framing = r.weighted([[10, 'none'], [6, 'length'], [6, 'chunked'], [1, 'both'], [1, 'double']]);
  if (framing === 'length' || framing === 'both' || framing === 'double') {
    const content = 'b'.repeat(r.pick([0, 1, 10, 1000]));
    fields.push(['Content-Length', r.weighted([[20, String(content.length)], [1, ` ${content.length}`], [1, `${content.length},${content.length}`], [1, '+1'], [1, '1'.repeat(20)]])]);
    if (framing === 'double') fields.push(['Content-Length', r.pick([String(content.length), '3'])]);
    body = content;
  }
  if (framing === 'chunked' || framing === 'both') {
    fields.push(['Transfer-Encoding', r.weighted([[20, 'chunked'], [1, 'Chunked'], [1, 'gzip, chunked'], [1, 'chunked, chunked'], [1, 'chunked ']])]);
    if (r.chance(0.02)) fields.push(['Transfer-Encoding', 'chunked']);
    body = chunkedBody(r, eol);
  }
  for (let i = fields.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [fields[i], fields[j]] = [fields[j], fields[i]];
  }
  const sep = () => r.weighted([[100, ': '], [10, ':'], [1, ' : '], [5, ':\t']]);
  return `${method} ${target} HTTP/${version}${eol}${fields.map(([n, v]) => `${n}${sep()}${v}${eol}`).join('')}${eol}${body}`;
}

/** One input: one to three requests, sometimes a few byte mutations; `splits`: where the socket writes are cut. */
function structureInput(seed) {
  const r = new Rng(seed);
  let text = '';
  const n = r.weighted([[6, 1], [3, 2], [1, 3]]);
  for (let i = 0; i < n; i++) text += oneRequest(r);
  if (r.chance(0.2)) {
    for (let m = r.range(1, 3); m > 0; m--) {
      const at = r.int(text.length + 1);
      text = r.weighted([
        [3, () => text.slice(0, at) + r.pick(ODD) + text.slice(at)],
        [2, () => text.slice(0, at) + text.slice(at + 1)],
        [2, () => text.slice(0, at) + r.pick(ODD) + text.slice(at + 1)],
      ]);
    }
  }
  const bytes = Buffer.from(text, 'latin1');
  const splits = Array.from({ length: r.range(0, 3) }, () => r.int(bytes.length + 1)).sort((a, b) => a - b);
  return { bytes, splits };
}

/** What the parser alone makes of `bytes`: the requests it completes (method, body length), then how it ends. */
function parserView(bytes) {
  const messages = [];
  let current = null;
  let error = null;
  let closed = false;
  let upgrade = false;
  const parser = new RequestParser(SERVER_LIMITS, {
    onHead(head) {
      current = { method: head.method, target: head.target, host: head.host, body: 0, complete: false };
      if (head.upgrade || head.method === 'CONNECT') {
        upgrade = true;
        parser.stop();
      }
      current.keepAlive = head.keepAlive;
      messages.push(current);
    },
    onBody(chunk) {
      current.body += chunk.length;
    },
    onMessageEnd() {
      current.complete = true;
      if (!current.keepAlive) closed = true;
    },
    onError(e) {
      error = e;
    },
  });
  parser.execute(bytes);
  let next = 0; // where the message after the complete ones starts
  while (!closed && error === null && parser.state === State.MESSAGE_DONE) {
    next = bytes.length - parser.buffered;
    parser.resume();
  }
  const partial = messages.find((m) => !m.complete);
  // The method its request line names, as node:http may read it where the parser refused the head.
  const nextMethod = /^(?:\r\n)*([A-Z]+) /.exec(bytes.latin1Slice(next, Math.min(bytes.length, next + 40)))?.[1] ?? 'GET';
  return { complete: messages.filter((m) => m.complete), partial: partial !== undefined, partialMethod: partial?.method ?? 'GET', nextMethod, error, closed, upgrade };
}

/** Sends `bytes` in pieces, half-closes, and resolves what came back and whether the server closed within ANSWER_MS. */
async function sendSplit(port, bytes, splits) {
  const connection = await RawConnection.connect(port);
  try {
    let from = 0;
    for (const to of [...splits, bytes.length]) {
      if (to > from) {
        connection.write(bytes.subarray(from, to));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      from = to;
    }
    connection.end();
    const closed = await connection.waitClosed(ANSWER_MS);
    return { data: connection.data, closed };
  } finally {
    connection.destroy();
  }
}

/** Node app inputs the parser refuses that node:http served, or refused with another status, or refused where the parser waits for more; connections node:http closed where the parser goes on. */
const node = { served: 0, otherStatus: 0, earlier: 0, closedEarlier: 0 };
/** Requests whose URL cannot be built, which the server refuses beyond the parser. */
let unparsableUrls = 0;

/** The method of each request line in the input, in order (for reading a Node app's answers where node:http read more than the parser). */
const requestLineMethods = (input) => [...input.latin1Slice(0, input.length).matchAll(/(?:^|\n)([A-Z]+) \S+ HTTP\/1\.[01]\r?\n/g)].map((match) => match[1]);

/** Why the socket's answer disagrees with the parser's view, or null. */
function disagreement(view, data, kind, input) {
  // The refusal of a HEAD whose head was read has no body either.
  const methods = [...view.complete.map((m) => m.method), view.partialMethod];
  let parsed = parseResponses(data, { closed: true, methods });
  // node:http reads some requests the parser refuses (a HEAD among them, whose answer has no body): their methods as the request lines say.
  if (kind === 'Node' && parsed.error !== null) parsed = parseResponses(data, { closed: true, methods: [...methods.slice(0, -1), view.nextMethod] });
  if (kind === 'Node' && parsed.error !== null) parsed = parseResponses(data, { closed: true, methods: requestLineMethods(input) });
  if (parsed.error !== null && parsed.partial === null) return `malformed response: ${parsed.error}`;
  const responses = parsed.responses;
  for (let k = 0; k < view.complete.length; k++) {
    const response = responses[k];
    const m = view.complete[k];
    if (response === undefined) {
      // node:http may close where the parser would go on (an HTTP/1.0 keep-alive answered without a length).
      if (kind === 'Node' && k > 0 && responses[k - 1].close) {
        node.closedEarlier++;
        return null;
      }
      return `request ${k} (${m.method}, ${m.body} body bytes) got no response`;
    }
    // A Fetch Request has no body for GET and HEAD: the server reads it, the app sees none.
    const expected = m.method === 'HEAD' ? '' : `${m.method} ${kind === 'Fetch' && m.method === 'GET' ? 0 : m.body}`;
    // A request whose URL cannot be built (an absolute-form target with a port that is no number,
    // a Host of ":"): 400 from the server's Fetch layer, not the parser.
    const url = m.target.startsWith('/') ? `http://${m.host ?? 'localhost'}${m.target}` : m.target;
    if (response.status === 400 && m.target !== '*' && !URL.canParse(url)) {
      unparsableUrls++;
      return null;
    }
    if (response.status !== 200 || response.text !== expected) return `request ${k}: ${response.status} ${JSON.stringify(response.text)}, the parser says ${JSON.stringify(expected)}`;
  }
  const extra = responses.slice(view.complete.length);
  if (kind === 'Node' && extra.length === 0 && view.complete.length > 0 && responses[view.complete.length - 1].close && (view.error !== null || view.partial)) {
    node.closedEarlier++;
    return null;
  }
  if (view.error !== null) {
    const refusal = `the parser refuses with ${view.error.status} (${view.error.code}); after the ${view.complete.length} responses came ${extra.map((r) => r.status).join(', ') || 'nothing'}`;
    if (kind === 'Fetch') return extra.length === 1 && extra[0].status === view.error.status ? null : refusal;
    // node:http parses a Node app's requests: its refusals may carry another
    // status, and it serves some of what the parser refuses (the deliberate
    // differences of test/differential/); once it refuses, it answers once.
    const refusals = extra.filter((r) => r.status >= 400);
    if (refusals.length > 1 || extra.slice(0, -1).some((r) => r.status >= 400)) return refusal;
    node.otherStatus += refusals.length === 1 && refusals[0].status !== view.error.status ? 1 : 0;
    node.served += refusals.length === 0 ? 1 : 0;
  } else if (kind === 'Node' && !view.closed && extra.length === 1 && extra[0].status >= 400 && extra[0].status < 500) {
    // node:http refuses bytes (a bare CR, say) where the parser still waits for more.
    node.earlier++;
  } else if (view.closed || !view.partial) {
    if (extra.length !== 0) return `${extra.length} responses more than the ${view.complete.length} requests`;
  } else if (extra.length > 1 || (extra.length === 1 && (extra[0].status < 400 || extra[0].status > 499))) {
    return `a request cut short by the close got ${extra.map((r) => r.status).join(', ')}`;
  }
  return null;
}

async function structure(kind, app) {
  const server = await serve(['--workers=1', app]);
  const workers = await waitFor(() => livePids(server.pid).length === 1 && livePids(server.pid), { message: 'the worker' });
  const failures = [];
  let hung = 0;
  let skipped = 0;
  let responses = 0;
  let refused = 0;
  let partial = 0;
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < COUNT && failures.length < 20) {
      const seed = (SEED + next++) >>> 0;
      const { bytes, splits } = structureInput(seed);
      const view = parserView(bytes);
      if (view.upgrade) {
        skipped++;
        continue;
      }
      const { data, closed } = await sendSplit(server.port, bytes, splits);
      const why = closed === 'timeout' ? `not closed within ${ANSWER_MS} ms` : disagreement(view, data, kind, bytes);
      if (closed === 'timeout') hung++;
      if (view.error !== null) refused++;
      else if (view.partial) partial++;
      responses += parseResponses(data, { closed: true }).responses.length;
      if (why !== null) failures.push(`seed ${seed}: ${why}\n  input: ${JSON.stringify(bytes.latin1Slice(0, Math.min(bytes.length, 600)))}\n  splits: ${splits}\n  received: ${JSON.stringify(data.latin1Slice(0, Math.min(data.length, 600)))}`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const same = server.exit === null && livePids(server.pid).join() === workers.join();
  for (const failure of failures.slice(0, 5)) process.stdout.write(`${failure}\n\n`);
  summary.add(`structure, ${kind} app: inputs through a socket, split at random points (seeds ${SEED}…)`, `${next - skipped} in ${seconds} s: ${next - skipped - refused - partial} served whole, ${refused} refused by the parser, ${partial} cut short; ${responses} responses (${skipped} upgrades skipped)`, `${COUNT - skipped}`, next - skipped === COUNT - skipped && failures.length < 20);
  summary.add(`structure, ${kind} app: answers unlike the parser alone`, `${failures.length}${kind === 'Fetch' ? ` (besides: ${unparsableUrls} requests whose URL cannot be built refused 400)` : ''}${kind === 'Node' ? ` (besides, as node:http parses: ${node.served} refused by the parser served, ${node.otherStatus} refused with another status, ${node.earlier} refused where the parser waits for more, ${node.closedEarlier} closed where the parser goes on)` : ''}`, '0', failures.length === 0);
  summary.add(`structure, ${kind} app: connections neither answered nor closed in 5 s`, hung, '0', hung === 0);
  summary.add(`structure, ${kind} app: worker survives`, same ? 'same pids' : 'replaced', 'same pids', same);
  await server.stop();
}

// ---------------------------------------------------------------------------
// Response splitting: fuzzed names, values and status texts echoed by an app.

const INJECTIONS = ['\r\nX-Injected: 1', '\r\n\r\nHTTP/1.1 200 OK\r\nX-Injected: 1\r\n\r\n', '\nX-Injected: 1', '\rX-Injected: 1', '\x00', '\r', '\n', '\u0100', '\u20ac', '\ud800', '\xe9', '\x7f', '\t', ' ', '\x0b', '\u010d\u010a'];

function fuzzedText(r, base) {
  let text = base;
  for (let i = r.weighted([[12, 0], [3, 1], [1, 2], [1, 4]]); i > 0; i--) {
    const at = r.int(text.length + 1);
    text = text.slice(0, at) + r.pick(INJECTIONS) + text.slice(at);
  }
  return text;
}

function echoBody(r, api) {
  const headers = Array.from({ length: r.range(1, 4) }, () => [fuzzedText(r, r.pick(['X-Echo', 'Set-Cookie', 'Location', 'Content-Type', 'x'])), fuzzedText(r, r.pick(['value', 'a=b; Path=/', '/next', 'text/plain', '']))]);
  const status = r.weighted([[8, 200], [1, () => r.pick([201, 302, 404, 500, 599, 600, 99, 1000])]]);
  return JSON.stringify({ api, status, reason: fuzzedText(r, r.pick(['OK', 'Fine', ''])), headers });
}

/**
 * Fails on what must never be on the wire: a CR, LF or NUL inside the status
 * line or a field line (a split response), a line that is no field, or a field
 * named as only an injection names it. (Other control characters in a value,
 * which Fetch's Headers allows and RFC 9110 does not, are no split.)
 */
function splitCheck(data) {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return 'no complete head';
  const [status, ...fields] = data.latin1Slice(0, end).split('\r\n');
  if (!/^HTTP\/1\.1 [1-9][0-9]{2} [^\r\n\0]*$/.test(status)) return `a bad status line ${JSON.stringify(status)}`;
  for (const line of fields) {
    if (/[\r\n\0]/.test(line)) return `CR, LF or NUL in ${JSON.stringify(line)}`;
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/.test(line)) return `not a field line: ${JSON.stringify(line)}`;
    if (/^x-injected:/i.test(line)) return 'an injected field';
  }
  return null;
}

async function splitting(kind, app, apis) {
  const server = await serve(['--workers=1', app]);
  const workers = await waitFor(() => livePids(server.pid).length === 1 && livePids(server.pid), { message: 'the worker' });
  const r = new Rng(SEED);
  const failures = [];
  const statuses = new Map();
  const started = performance.now();
  // One request a connection, closed after the response: everything received is that response.
  for (let i = 0; i < ECHO && failures.length < 20; i++) {
    const body = echoBody(r, apis[i % apis.length]);
    const connection = await RawConnection.connect(server.port);
    try {
      connection.write(httpRequest('POST', '/echo', { headers: { Connection: 'close' }, body: Buffer.from(body, 'utf8') }));
      const closed = await connection.waitClosed(ANSWER_MS);
      const data = connection.data;
      const why = closed === 'timeout' ? `not answered and closed within ${ANSWER_MS} ms` : splitCheck(data);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(data.latin1Slice(0, 12))?.[1] ?? 'none';
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (why !== null) failures.push(`request ${i} (seed ${SEED}): ${why}\n  body: ${body}\n  received: ${JSON.stringify(data.latin1Slice(0, Math.min(600, data.length)))}`);
    } finally {
      connection.destroy();
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const same = server.exit === null && livePids(server.pid).join() === workers.join();
  for (const failure of failures.slice(0, 5)) process.stdout.write(`${failure}\n\n`);
  const tally = [...statuses].sort((a, b) => a[0] - b[0]).map(([status, n]) => `${status}×${n}`).join(' ');
  summary.add(`splitting, ${kind} app (${apis.join(', ')}): responses with CR, LF or NUL in a field or status line`, `${failures.length} of ${ECHO} in ${seconds} s (statuses ${tally})`, '0', failures.length === 0);
  summary.add(`splitting, ${kind} app: worker survives`, same ? 'same pids' : 'replaced', 'same pids', same);
  await server.stop();
}

