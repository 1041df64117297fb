// The two parsers under comparison, each run over a whole input and reduced to
// the same shape:
//
//   { msgs: [{ method, target, version, headers: [[name, value], ...], body,
//              keepAlive, upgrade, complete }],
//     end: 'open' | 'closed' | 'error', code, starts: [offset of message k] }
//
// `end` is 'closed' when the last message does not let the connection go on
// (not keep-alive); whatever follows is not parsed. An upgrade (or CONNECT)
// ends the comparison at its head: Node's binding reports no error after an
// upgrade head (the rest belongs to the new protocol), so it counts as
// complete there, without body, and closes. 'error' comes with the error
// code. A last message with `complete: false` was cut off (its head, and
// maybe some body).

import { createRequire } from 'node:module';
import { RequestParser, State } from '../../dist/http/parser.js';

const require = createRequire(import.meta.url);
const { HTTPParser, methods: NODE_METHODS } = require('_http_common');

/** Same limits on both sides where llhttp has one; none of ours bites where llhttp has none. */
export const HEADER_SIZE = 16384;
export const OUR_LIMITS = {
  maxHeaderSize: HEADER_SIZE,
  maxRequestLine: HEADER_SIZE,
  maxHeaders: 10000,
  maxBodySize: Infinity,
  maxChunkExtensions: 16384,
};

// ---------------------------------------------------------------------------
// llhttp, through Node's binding (strict: no lenient flags).

const { kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete, kOnExecute } = HTTPParser;

let llState = null;
const llParser = new HTTPParser();

function setCallbacks(parser) {
  parser[kOnHeaders] = (headers, url) => {
    const s = llState;
    if (s.closed) return;
    // After the head: trailer fields (flushed with a stale url), which we do not compare.
    if (s.cur !== null && !s.cur.complete) return;
    // Before it: more than 32 fields come in batches.
    for (let i = 0; i < headers.length; i += 2) s.pendingHeaders.push([headers[i].toLowerCase(), headers[i + 1]]);
    s.pendingUrl += url;
  };
  parser[kOnHeadersComplete] = (major, minor, headers, method, url, _status, _reason, upgrade, keepAlive) => {
    const s = llState;
    if (s.closed) return 0;
    const pairs = s.pendingHeaders;
    if (headers) for (let i = 0; i < headers.length; i += 2) pairs.push([headers[i].toLowerCase(), headers[i + 1]]);
    s.cur = {
      method: s.methodNames.get(method) ?? `#${method}`,
      target: s.pendingUrl + (url ?? ''),
      version: `${major}.${minor}`,
      headers: pairs,
      body: '',
      keepAlive: Boolean(keepAlive),
      upgrade: Boolean(upgrade),
      complete: Boolean(upgrade),
    };
    s.msgs.push(s.cur);
    s.pendingHeaders = [];
    s.pendingUrl = '';
    if (upgrade) s.closed = true;
    return 0;
  };
  parser[kOnBody] = (chunk) => {
    const s = llState;
    if (!s.closed) s.cur.body += chunk.latin1Slice(0, chunk.length);
  };
  parser[kOnMessageComplete] = () => {
    const s = llState;
    if (s.closed) return;
    s.cur.complete = true;
    if (!s.cur.keepAlive || s.cur.upgrade) s.closed = true;
  };
  parser[kOnExecute] = () => {};
}
setCallbacks(llParser);

function llRun(bytes, methodNames) {
  llState = { msgs: [], cur: null, closed: false, pendingHeaders: [], pendingUrl: '', methodNames };
  // maxHeaderSize as node:http sets it; 0 = no lenient flags.
  llParser.initialize(HTTPParser.REQUEST, {}, HEADER_SIZE, 0);
  const ret = llParser.execute(bytes);
  const s = llState;
  llState = null;
  if (s.closed) return { msgs: s.msgs, end: 'closed' };
  if (ret instanceof Error) return { msgs: s.msgs, end: 'error', code: ret.code, reason: ret.reason };
  return { msgs: s.msgs, end: 'open' };
}

/** llhttp reports the method as its enum value; learn the names from llhttp itself. */
const METHOD_NAMES = new Map();
for (const name of NODE_METHODS) {
  const r = llRun(Buffer.from(`${name} ${name === 'CONNECT' ? 'a:1' : '/'} HTTP/1.1\r\n\r\n`, 'latin1'), new Map());
  const m = r.msgs[0];
  if (!m || !m.method.startsWith('#')) throw new Error(`cannot learn llhttp's number for ${name}: ${JSON.stringify(r)}`);
  METHOD_NAMES.set(Number(m.method.slice(1)), name);
}

export function runLlhttp(bytes) {
  return llRun(bytes, METHOD_NAMES);
}

// ---------------------------------------------------------------------------
// Ours.

/**
 * Runs our parser over `bytes`, fed in two pieces when `split` is given.
 * Without a split, the next message is resumed from inside onMessageEnd; with
 * one, after execute() returns (as a connection does): both must work.
 */
export function runOurs(bytes, split) {
  const msgs = [];
  const starts = [0];
  let cur = null;
  let error = null;
  let closed = false;
  let fed = 0;
  const deferred = split !== undefined;
  const parser = new RequestParser(OUR_LIMITS, {
    onHead(h) {
      const headers = [];
      for (let i = 0; i < h.fieldCount; i++) headers.push([h.name(i), h.value(i)]);
      cur = {
        method: h.method,
        target: h.target,
        version: `1.${h.minor}`,
        headers,
        body: '',
        keepAlive: h.keepAlive,
        upgrade: h.upgrade || h.method === 'CONNECT',
        complete: false,
      };
      msgs.push(cur);
      if (cur.upgrade) {
        cur.complete = closed = true;
        parser.stop();
      }
    },
    onBody(chunk) {
      cur.body += chunk.latin1Slice(0, chunk.length);
    },
    onMessageEnd() {
      cur.complete = true;
      if (!cur.keepAlive || cur.upgrade) closed = true;
      else if (!deferred) next();
    },
    onError(e) {
      error = e;
    },
  });
  function next() {
    starts.push(fed - parser.buffered);
    parser.resume();
  }
  const pieces = deferred ? [bytes.subarray(0, split), bytes.subarray(split)] : [bytes];
  for (const piece of pieces) {
    fed += piece.length;
    parser.execute(piece);
    while (deferred && !closed && error === null && parser.state === State.MESSAGE_DONE) next();
  }
  if (error) return { msgs, end: 'error', code: error.code, status: error.status, starts };
  return { msgs, end: closed ? 'closed' : 'open', starts };
}
