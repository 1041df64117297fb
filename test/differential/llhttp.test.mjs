// Differential test: our request parser against Node's own (llhttp, strict).
//
// The project's rule: where llhttp refuses a request, we refuse it; where both
// accept, both see the same method, target, version, header fields and body,
// and keep the connection open alike. We are stricter on purpose in a few
// places, each listed in DELIBERATE below with its reason; any other
// difference fails, printing the seed that replays it:
//
//   STARLIGHT_DIFF_SEED=<seed> STARLIGHT_DIFF_COUNT=1 node --test test/differential/
//
// Inputs come from a seeded generator (generate.mjs): one to three pipelined
// requests, then often a few byte mutations. Input i uses seed base + i.
// Each input also goes through our parser in two pieces, split at a random
// point: the result must not depend on how the bytes arrive.

import assert from 'node:assert/strict';
import test from 'node:test';
import { compare } from './compare.mjs';
import { generateInput } from './generate.mjs';
import { HEADER_SIZE, runLlhttp, runOurs } from './sides.mjs';

const BASE_SEED = process.env.STARLIGHT_DIFF_SEED ? Number(process.env.STARLIGHT_DIFF_SEED) >>> 0 : 0x5eed1e55;
const COUNT = process.env.STARLIGHT_DIFF_COUNT ? Number(process.env.STARLIGHT_DIFF_COUNT) : 20000;

// ---------------------------------------------------------------------------
// Where we refuse what llhttp accepts, on purpose. `code` is the error we give
// ('CLOSE': we serve the request but close the connection after it, where
// llhttp would go on). `matches(line, m, rest)` says whether the message is
// one of these: `line` is its request line (method, target, version), `m`
// llhttp's view of the message (null when llhttp had not finished its head
// when the input ended), `rest` the raw input from the message on.

const RFC3986_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;

/** Without surrounding SP and HTAB (String.trim would take other bytes too, 0xA0 for one). */
const ows = (s) => s.replace(/^[ \t]+|[ \t]+$/g, '');
/** The header fields of message k: llhttp's, or read from the raw head when llhttp had not finished it. */
const values = (m, rest, name) => fieldsOf(m, rest).filter(([n]) => n === name).map(([, v]) => v);
const fieldsOf = (m, rest) =>
  m ? m.headers : head(rest).split('\r\n').slice(1).filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), ows(l.slice(l.indexOf(':') + 1))]);
/** The header section of the raw message (with the CRLF ending its last field). */
const head = (rest) => {
  const r = rest.replace(/^(?:\r\n)+/, '');
  return r.slice(0, r.search(/\r\n\r\n|$/) + 2);
};
const TCHAR = "[-!#$%&'*+.^_`|~0-9A-Za-z]";
const CHUNK_EXT = new RegExp(`^(?:;${TCHAR}+(?:=(?:${TCHAR}+|"(?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*"))?)*$`);
/** The trailer section after the first last-chunk in the raw input, if any. */
const trailerSection = (rest) => {
  const last = /(?<=\n)0+(?:;[^\r\n]*)?\r\n/.exec(rest);
  if (last === null) return '';
  const after = rest.slice(last.index + last[0].length);
  const end = after.indexOf('\r\n\r\n');
  return end === -1 ? after : after.slice(0, end + 2);
};
/** The chunk extensions on chunk-size lines in the raw input (the last one may be cut off). */
const chunkExtensions = (rest) => [...rest.matchAll(/(?<=\n)[0-9A-Fa-f]+(;[^\r\n]*)(?:\r?\n|$)/g)].map((match) => match[1]);
/** llhttp reads Proxy-Connection as Connection; so do we. */
const connectionValues = (m, rest) => [...values(m, rest, 'connection'), ...values(m, rest, 'proxy-connection')];
const codings = (m, rest) => values(m, rest, 'transfer-encoding').flatMap((v) => v.split(',')).map((c) => ows(c).toLowerCase()).filter(Boolean);

export const DELIBERATE = [
  {
    name: 'duplicate Host',
    code: 'DUPLICATE_HOST',
    reason: 'RFC 9112 §3.2: a request with more than one Host field MUST get 400; llhttp leaves Host to node:http',
    matches: (line, m, rest) => values(m, rest, 'host').length > 1,
  },
  {
    name: 'invalid Host value',
    code: 'BAD_HOST',
    reason: 'RFC 9112 §3.2: a Host that is not uri-host [":" port] (RFC 3986) MUST get 400 (we refuse IPvFuture literals too); llhttp leaves Host to node:http',
    matches: (line, m, rest) => values(m, rest, 'host').length === 1 && !RFC3986_HOST.test(values(m, rest, 'host')[0]),
  },
  {
    name: 'missing Host on HTTP/1.1',
    code: 'MISSING_HOST',
    reason: 'RFC 9112 §3.2: an HTTP/1.1 request without Host MUST get 400; llhttp leaves Host to node:http',
    matches: (line, m, rest) => m !== null && m.version === '1.1' && values(m, rest, 'host').length === 0,
  },
  {
    name: 'HTTP/0.9 request',
    code: ['BAD_VERSION', 'BAD_LINE_ENDING', 'BAD_REQUEST_LINE'],
    reason: 'a request line without a version is HTTP/0.9 (no headers, no status line in the answer); we do not serve it, llhttp parses it as 0.9',
    matches: (line) => line.version === '0.9' || line.version === '',
  },
  {
    name: 'HTTP version other than 1.0 and 1.1',
    code: 'VERSION_NOT_SUPPORTED',
    reason: 'RFC 9110 §6.2: we answer 505 to majors we do not speak; llhttp accepts "HTTP/2.0" in an HTTP/1 request line',
    matches: (line) => line.version !== '1.0' && line.version !== '1.1',
  },
  {
    name: 'asterisk-form for a method other than OPTIONS',
    code: 'BAD_TARGET',
    reason: 'RFC 9112 §3.2.4: "*" is only for a server-wide OPTIONS; llhttp accepts it with any method',
    matches: (line) => line.target === '*' && line.method !== 'OPTIONS',
  },
  {
    name: 'CONNECT without an authority-form target',
    code: 'BAD_TARGET',
    reason: 'RFC 9112 §3.2.3: CONNECT takes host:port only; llhttp accepts other forms',
    matches: (line) => line.method === 'CONNECT' && !/^[^/?#@]+:[0-9]+$/.test(line.target),
  },
  {
    name: 'request-target in no form we serve',
    code: 'BAD_TARGET',
    reason: 'RFC 9112 §3.2: origin-form starts with "/", asterisk-form is "*" alone, and we serve absolute-form for http and https URIs with a host only; llhttp accepts any scheme, an empty host, and "*" followed by a path',
    matches: (line) => line.method !== 'CONNECT' && line.target !== '*' && !line.target.startsWith('/') && !/^https?:\/\/(?:[^/?#@]*@)?[^/?#@]+(?:[/?]|$)/i.test(line.target),
  },
  {
    name: 'transfer coding other than chunked',
    code: ['UNSUPPORTED_TRANSFER_CODING', 'BAD_TRANSFER_ENCODING'],
    reason: 'RFC 9112 §6.1: a server that does not understand a transfer coding answers 501 (400 when it is not even a token); llhttp accepts anything before chunked',
    matches: (line, m, rest) => codings(m, rest).some((c) => c !== 'chunked'),
  },
  {
    name: 'empty Transfer-Encoding',
    code: ['BAD_TRANSFER_ENCODING', 'CONTENT_LENGTH_WITH_TRANSFER_ENCODING'],
    reason: 'RFC 9112 §6.1: Transfer-Encoding lists the codings applied; an empty one is no framing we know (chunked is not last; with Content-Length, both framings), so 400; llhttp ignores it',
    matches: (line, m, rest) => values(m, rest, 'transfer-encoding').some((v) => v.replace(/[ \t,]/g, '') === ''),
  },
  {
    name: 'expectation other than 100-continue',
    code: 'EXPECTATION_FAILED',
    reason: 'RFC 9110 §10.1.1: an unsupported expectation gets 417; llhttp does not look at Expect',
    matches: (line, m, rest) => values(m, rest, 'expect').some((v) => v.toLowerCase() !== '100-continue'),
  },
  {
    name: 'more than one Expect field',
    code: 'EXPECTATION_FAILED',
    reason: 'Expect is a singleton list for us: two fields would be two interpretations; llhttp does not look at Expect',
    matches: (line, m, rest) => values(m, rest, 'expect').length > 1,
  },
  {
    name: 'bare LF or CR before the request line',
    code: ['BAD_LINE_ENDING', 'BAD_REQUEST_LINE'],
    reason: 'RFC 9112 §2.2 allows skipping empty CRLF lines; a bare LF or CR there is a line-ending trick, llhttp skips them',
    matches: (line, m, rest) => /^(?:\r\n)*(?:\n|\r(?!\n))/.test(rest),
  },
  {
    name: 'CONNECT with content',
    code: ['BAD_CONTENT_LENGTH', 'BAD_TRANSFER_ENCODING'],
    reason: 'RFC 9110 §9.3.6: a CONNECT request has no content; llhttp ignores its framing fields and starts the tunnel, a proxy might forward a body',
    matches: (line, m, rest) => line.method === 'CONNECT' && (values(m, rest, 'transfer-encoding').length > 0 || values(m, rest, 'content-length').some((v) => v !== '0')),
  },
  {
    name: 'more than one space between the parts of the request line',
    code: ['BAD_REQUEST_LINE', 'BAD_VERSION'],
    reason: 'RFC 9112 §3: request-line = method SP request-target SP HTTP-version, one SP each; llhttp skips extra spaces',
    matches: (line, m, rest) => /^[^ \r\n]* {2}|^[^ \r\n]* [^ \r\n]* {2}/.test(rest.replace(/^(?:\r\n)+/, '')),
  },
  {
    name: 'Content-Length above 2^53 - 1',
    code: 'BAD_CONTENT_LENGTH',
    reason: 'a length we cannot hold exactly in a JS number is refused (no body is that large); llhttp counts in 64 bits',
    matches: (line, m, rest) => values(m, rest, 'content-length').some((v) => /^[0-9]+$/.test(v) && Number(v) > Number.MAX_SAFE_INTEGER),
  },
  {
    name: 'whitespace after the last transfer coding',
    code: 'BAD_TRANSFER_ENCODING',
    reason: 'a TE.TE obfuscation: `chunked ` is not `chunked` to every parser; llhttp refuses a tab there but serves spaces',
    matches: (line, m, rest) => /\ntransfer-encoding:[^\r\n]*[ \t]\r\n/i.test(head(rest)),
  },
  {
    name: 'Connection: close together with keep-alive on HTTP/1.0',
    code: 'CLOSE',
    reason: 'RFC 9112 §9.3: the close option means close; llhttp only looks for keep-alive in a 1.0 request (in Connection or Proxy-Connection)',
    matches: (line, m, rest) => m !== null && m.version === '1.0' && connectionValues(m, rest).some((v) => /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i.test(v)),
  },
  {
    name: 'Connection: close followed by a tab',
    code: 'CLOSE',
    reason: 'RFC 9110 §5.6.1: list elements are delimited by OWS, tabs included; llhttp does not see `close` before a tab',
    matches: (line, m, rest) => /\n(?:proxy-)?connection:[^\r\n]*close[ \t]*\t/i.test(head(rest)),
  },
  {
    name: 'a tab after the Content-Length digits',
    code: 'BAD_CONTENT_LENGTH',
    reason: 'llhttp 9.3 (Node 20) refuses it and later llhttp (Node 24) serves it; we keep the stricter reading on every Node',
    matches: (line, m, rest) => /\ncontent-length:[^\r\n]*[0-9][ \t]*\t[ \t]*\r\n/i.test(head(rest)),
  },
  {
    name: 'keep-alive followed by a tab',
    code: 'CLOSE',
    reason: 'llhttp 9.3 (Node 20) does not see the option and later llhttp (Node 24) does; we close, the reading that is safe with both',
    matches: (line, m, rest) => /\n(?:proxy-)?connection:[^\r\n]*keep-alive[ \t]*\t/i.test(head(rest)),
  },
  {
    name: 'chunk size above 2^52',
    code: 'BAD_CHUNK_SIZE',
    reason: 'sizes are counted exactly in a JS number (no body is that large); llhttp counts in 64 bits',
    matches: (line, m, rest) => [...rest.matchAll(/(?<=\n)([0-9A-Fa-f]+)(?:;[^\r\n]*)?\r\n/g)].some((match) => BigInt('0x' + match[1]) > 2n ** 52n),
  },
  {
    name: 'chunk extension that is not token [= token / quoted-string]',
    code: 'BAD_CHUNK_EXTENSION',
    reason: 'RFC 9112 §7.1.1: chunk-ext-name and chunk-ext-val are not empty; llhttp accepts `;=`, `;a=`, `;;a` and `;a=b"c"`',
    matches: (line, m, rest) => chunkExtensions(rest).some((ext) => !CHUNK_EXT.test(ext)),
  },
  {
    name: 'Transfer-Encoding in the trailer section',
    code: 'FRAMING_HEADER_IN_TRAILERS',
    reason: 'RFC 9110 §6.5.1: framing fields are not allowed in trailers (a recipient merging them would reframe); llhttp refuses Content-Length there but passes Transfer-Encoding on',
    matches: (line, m, rest) => /\n0+(?:;[^\r\n]*)?\r\n(?:[^\r\n]*\r\n)*?transfer-encoding:/i.test(rest),
  },
  {
    name: 'head or trailer section over 16 KiB counted in full',
    code: ['HEADERS_TOO_LARGE', 'REQUEST_LINE_TOO_LONG'],
    reason: 'we count every byte of the section (separators and line ends too) against the limit; Node counts only the target, names and values',
    matches: (line, m, rest) => head(rest).length + 2 > HEADER_SIZE || trailerSection(rest).length + 2 > HEADER_SIZE,
  },
  {
    name: 'chunk extensions over 16 KiB in one message',
    code: 'CHUNK_EXTENSIONS_TOO_LARGE',
    reason: 'we bound the extensions of a whole message; Node bounds them per chunk',
    matches: (line, m, rest) => chunkExtensions(rest).reduce((n, ext) => n + ext.length, 0) > 16384,
  },
  {
    name: 'Transfer-Encoding on HTTP/1.0',
    code: 'CLOSE',
    reason: 'RFC 9112 §6.1: a 1.0 message with Transfer-Encoding has faulty framing: serve it, then close; llhttp keeps a 1.0 keep-alive connection open',
    matches: (line, m, rest) => m !== null && m.version === '1.0' && values(m, rest, 'transfer-encoding').length > 0,
  },
];

/** The request line of message k: llhttp's when it has one, else read from the raw bytes. */
function requestLine(m, rest) {
  if (m !== null) return { method: m.method, target: m.target, version: m.version };
  const line = rest.replace(/^(?:\r\n)+/, '').split('\n')[0].replace(/\r$/, '');
  const [method = '', target = '', version = ''] = line.split(' ');
  return { method, target, version: version.replace(/^HTTP\//, '') };
}

function deliberate(d) {
  const line = requestLine(d.m, d.rest);
  return DELIBERATE.find((entry) => [entry.code].flat().includes(d.code) && entry.matches(line, d.m, d.rest));
}

// ---------------------------------------------------------------------------

const clip = (value) => {
  const s = JSON.stringify(value);
  return s.length > 3000 ? s.slice(0, 3000) + '…' : s;
};

test(`our parser agrees with llhttp on ${COUNT} generated inputs (seed ${BASE_SEED})`, (t) => {
  const failures = [];
  const hits = new Map(DELIBERATE.map((e) => [e, 0]));
  const stats = { inputs: 0, bothAcceptedAll: 0, bothRefused: 0, deliberate: 0, messagesCompared: 0 };
  const llCodes = new Map();
  const started = performance.now();

  for (let i = 0; i < COUNT; i++) {
    const seed = (BASE_SEED + i) >>> 0;
    const { bytes, split } = generateInput(seed);
    const ll = runLlhttp(bytes);
    let ours;
    let oursSplit;
    try {
      ours = runOurs(bytes);
      oursSplit = runOurs(bytes, split);
    } catch (error) {
      ours ??= { threw: String(error) };
      oursSplit = { threw: String(error) };
    }
    stats.inputs++;
    if (ll.end === 'error') llCodes.set(ll.code, (llCodes.get(ll.code) ?? 0) + 1);

    const report = (why) =>
      failures.push(
        `${why}\n  seed: ${seed} (STARLIGHT_DIFF_SEED=${seed} STARLIGHT_DIFF_COUNT=1)\n  input: ${clip(bytes.latin1Slice(0, bytes.length))}\n` +
          `  split at: ${split}\n  llhttp: ${clip(ll)}\n  ours:   ${clip(ours)}` +
          (why.startsWith('split') ? `\n  ours, split: ${clip(oursSplit)}` : ''),
      );

    if (ours.threw || oursSplit.threw) {
      report(`split: our parser threw ${ours.threw ?? oursSplit.threw}`);
      continue;
    }
    if (JSON.stringify(ours) !== JSON.stringify(oursSplit)) {
      report(`split: fed in two pieces at ${split}, our parser gives another result`);
      continue;
    }
    const verdict = compare(ll, ours, bytes);
    if (verdict === null) {
      if (ll.end === 'error' && ours.end === 'error') stats.bothRefused++;
      else if (ll.end !== 'error' && ours.msgs.every((m) => m.complete)) stats.bothAcceptedAll++;
      stats.messagesCompared += ours.msgs.length;
      continue;
    }
    if (verdict.fail) {
      report(verdict.fail);
      continue;
    }
    const d = verdict.divergence;
    if (d.m === null && ll.end === 'open') {
      // We refused a head llhttp had not finished: see what llhttp makes of
      // it once the head ends after its last complete line.
      const cut = bytes.lastIndexOf(0x0a) + 1;
      const ended = runLlhttp(Buffer.concat([bytes.subarray(0, cut), Buffer.from('\r\n')]));
      if (ended.msgs.length > d.k && ended.msgs[d.k].complete) {
        d.m = ended.msgs[d.k];
      } else {
        // llhttp refuses it then, or still accepts nothing (PRI waits for the
        // rest of the HTTP/2 preface): no request it accepts that we refuse.
        stats.bothRefused++;
        continue;
      }
    }
    const entry = deliberate(d);
    if (entry) {
      hits.set(entry, hits.get(entry) + 1);
      stats.deliberate++;
      stats.messagesCompared += d.k;
    } else {
      report(`message ${d.k}: we refuse it (${d.code}), llhttp accepts it, and no deliberate difference covers it`);
    }
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  t.diagnostic(`${stats.inputs} inputs in ${seconds} s: ${stats.bothAcceptedAll} accepted by both, ${stats.bothRefused} refused by both, ${stats.deliberate} deliberate differences; ${stats.messagesCompared} messages compared`);
  t.diagnostic(`llhttp errors: ${[...llCodes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')}`);
  for (const [entry, n] of hits) t.diagnostic(`deliberate: ${entry.name}: ${n}`);
  const unused = [...hits].filter(([, n]) => n === 0).map(([e]) => e.name);
  if (unused.length > 0) t.diagnostic(`deliberate differences that never matched: ${unused.join('; ')}`);

  if (failures.length > 0) {
    const kinds = new Map();
    for (const f of failures) {
      const kind = f.slice(0, f.indexOf('\n')).replace(/\d+/g, 'N');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const tally = [...kinds].map(([kind, n]) => `  ${n} × ${kind}`).join('\n');
    assert.fail(`${failures.length} of ${COUNT} inputs differ from llhttp (base seed ${BASE_SEED}):\n${tally}\n\nThe first ones:\n\n${failures.slice(0, 8).join('\n\n')}`);
  }
});

test('the comparison catches a parser laxer than llhttp', () => {
  // A parser that took `Content-Length: +3` as 3 would pass nothing else here.
  const bytes = Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc', 'latin1');
  const ll = runLlhttp(bytes);
  assert.equal(ll.end, 'error');
  const lax = {
    msgs: [{ method: 'POST', target: '/', version: '1.1', headers: [['host', 'a'], ['content-length', '+3']], body: 'abc', keepAlive: true, upgrade: false, complete: true }],
    end: 'open',
    starts: [0, bytes.length],
  };
  assert.ok(compare(ll, lax, bytes)?.fail);
  // Ours refuses it.
  const ours = runOurs(bytes);
  assert.equal(ours.end, 'error');
  assert.equal(compare(ll, ours, bytes), null);
});
