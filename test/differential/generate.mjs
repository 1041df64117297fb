// Request generator for the differential test: builds plausible HTTP/1.x
// requests (one to three, pipelined) from a seeded PRNG, then sometimes
// mutates the bytes. Everything works on latin1 strings (one char = one byte).

import { Rng } from './prng.mjs';

const TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const PATH_CHARS = "abcxyz019-._~!$&'()*+,;=:@/%?";
const VCHAR = Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
/** Bytes that are interesting anywhere: line ends, whitespace, controls, obs-text, separators. */
const ODD = ['\r', '\n', ' ', '\t', '\x00', '\x01', '\x0b', '\x0c', '\x1f', '\x7f', '\x80', '\xa0', '\xff', ':', ';', ',', '"', '\\', '=', '/', '?', '#', '@', '[', ']', '%', '+', '-'];

const KNOWN_METHODS = [
  'ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH',
  'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST',
  'PROPFIND', 'PROPPATCH', 'PURGE', 'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE',
  'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE',
];
const COMMON_METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH'];
const UNKNOWN_METHODS = ['FOO', 'GETT', 'GE', 'PRI', 'DESCRIBE', 'SETUP', 'PLAY', 'HTTP', 'BREW', 'POSTX', 'M-SEARCHX', 'X'];

function method(r) {
  return r.weighted([
    [70, () => r.pick(COMMON_METHODS)],
    [15, () => r.pick(KNOWN_METHODS)],
    [1, () => r.pick(KNOWN_METHODS).toLowerCase()],
    [3, () => r.pick(UNKNOWN_METHODS)],
    [1, () => r.string(TCHAR, r.range(1, 6))],
    [1, () => {
      const m = r.pick(COMMON_METHODS);
      const at = r.int(m.length + 1);
      return m.slice(0, at) + r.pick(ODD) + m.slice(at);
    }],
    [1, ''],
  ]);
}

function path(r) {
  let p = '/';
  const n = r.int(4);
  for (let i = 0; i < n; i++) p += r.string(ALNUM, r.range(1, 5)) + (i < n - 1 ? '/' : '');
  if (r.chance(0.3)) p += '?' + r.string(ALNUM, 2) + '=' + r.string(PATH_CHARS, r.range(0, 6));
  if (r.chance(0.1)) p += r.string(PATH_CHARS, r.range(1, 4));
  return p;
}

function authority(r) {
  return r.weighted([
    [6, 'example.com'],
    [2, () => r.string(ALNUM, r.range(1, 8)) + '.test'],
    [1, '127.0.0.1'],
    [1, '[::1]'],
  ]) + (r.chance(0.4) ? ':' + r.pick(['80', '443', '8080', '1', '65535', '']) : '');
}

function target(r, m) {
  if (m === 'CONNECT' && r.chance(0.7)) return r.chance(0.8) ? authority(r).replace(/:[0-9]*$/, '') + ':' + r.pick(['443', '80', '1']) : authority(r);
  return r.weighted([
    [75, () => path(r)],
    [10, () => r.pick(['http', 'https', 'HTTP', 'ftp', 'ws', 'h']) + '://' + authority(r) + (r.chance(0.7) ? path(r) : '')],
    [3, () => r.pick(['http://', 'http:///x', 'http:/x', 'http:', 'https://?a'])],
    [6, '*'],
    [5, () => authority(r)],
    [4, () => path(r) + r.pick(ODD) + r.string(ALNUM, r.int(3))],
    [3, () => path(r) + String.fromCharCode(r.range(0x80, 0xff))],
    [3, () => r.string(VCHAR, r.range(1, 8))],
    [1, ''],
    [0.3, () => '/' + 'a'.repeat(r.range(17000, 17500))],
    [0.2, () => '/' + 'a'.repeat(r.range(16320, 16400))],
  ]);
}

function version(r) {
  return r.weighted([
    [70, 'HTTP/1.1'],
    [20, 'HTTP/1.0'],
    [2, 'HTTP/2.0'],
    [1, () => r.pick(['HTTP/0.9', 'HTTP/1.2', 'HTTP/3.0', 'HTTP/1.9', 'HTTP/2.1', 'HTTP/9.9', 'HTTP/0.0'])],
    [1, () => r.pick(['http/1.1', 'HTTP/1.10', 'HTTP/11', 'HTTP/1', 'HTTP/1.', 'HTTPS/1.1', 'HTTP/1.1 ', 'HTTP/ 1.1', 'HTTP/1.1\t', 'HTTP1.1', 'HTTP/a.b'])],
    [1, ''],
  ]);
}

function ows(r) {
  return r.weighted([[8, ''], [6, ' '], [1, '  '], [1, '\t'], [1, ' \t ']]);
}

function fieldValue(r) {
  return r.weighted([
    [10, () => r.string(ALNUM, r.range(1, 10))],
    [5, () => r.string(VCHAR + ' ', r.range(1, 12)).trim() || 'x'],
    [3, () => r.string(ALNUM + ' \t', r.range(0, 8))],
    [2, () => r.string(ALNUM, 3) + String.fromCharCode(r.range(0x80, 0xff)) + r.string(ALNUM, 2)],
    [1, () => r.string(ALNUM, 2) + r.pick(['\x00', '\x01', '\x7f', '\x0b', '\x1f', '\r', '\t']) + r.string(ALNUM, 2)],
    [1, ''],
    [0.1, () => 'v'.repeat(r.range(17000, 17500))],
    [0.1, () => 'v'.repeat(r.range(16250, 16400))],
  ]);
}

function contentLengthValue(r, n) {
  return r.weighted([
    [40, String(n)],
    [3, '0' + n],
    [2, () => '+' + n],
    [2, () => '-' + n],
    [2, () => n + ' ' + n],
    [2, () => n + ',' + n],
    [2, () => n + ', ' + n],
    [1, () => '0x' + n],
    [1, () => n + 'a'],
    [1, ''],
    [1, '99999999999999999999'],
    [1, '9007199254740992'],
    [1, () => n + '.0'],
    [1, () => String(n + 1)],
    [1, () => String(Math.max(0, n - 1))],
  ]);
}

function transferEncodingValue(r) {
  return r.weighted([
    [40, 'chunked'],
    [4, 'Chunked'],
    [3, 'CHUNKED'],
    [3, 'gzip, chunked'],
    [2, 'cow, chunked'],
    [3, 'chunked, gzip'],
    [2, 'identity'],
    [2, 'chunked '],
    [2, ' chunked'],
    [1, 'chunked,'],
    [1, ',chunked'],
    [1, 'chunked, chunked'],
    [1, 'chunked;q=1'],
    [1, 'chunk'],
    [1, 'chunkedx'],
    [1, '"chunked"'],
    [1, 'gzip'],
    [1, 'chunked\t'],
    [1, 'x chunked'],
    [1, 'gzip,chunked'],
    [1, ''],
    [1, ','],
  ]);
}

function hostValue(r) {
  return r.weighted([
    [30, () => authority(r)],
    [2, ''],
    [1, () => r.pick(['a b', 'a/b', 'a@b', 'a?b', 'a#b', '[::1', 'a:b', 'a:80:90', 'é', 'a\x80', '[v1.x]', 'a%20b', 'a_b', 'user@host', '*'])],
  ]);
}

function caseVariant(r, name) {
  return r.weighted([
    [6, name],
    [2, name.toLowerCase()],
    [1, name.toUpperCase()],
  ]);
}

const OTHER_NAMES = ['Accept', 'User-Agent', 'Accept-Encoding', 'Cookie', 'X-Forwarded-For', 'Content-Type', 'Keep-Alive', 'TE', 'Trailer', 'X-Request-Id', 'Proxy-Connection', 'Content-Lengthx', 'Transfer-Encodingx', 'Hostx'];

function connectionValue(r) {
  return r.weighted([
    [8, 'close'],
    [8, 'keep-alive'],
    [3, 'upgrade'],
    [2, 'Keep-Alive'],
    [2, 'CLOSE'],
    [2, 'keep-alive, close'],
    [2, 'close, keep-alive'],
    [2, 'foo, close'],
    [1, 'closed'],
    [1, 'keep-alive, upgrade'],
    [1, 'Upgrade, close'],
    [1, 'close,'],
    [1, ',close'],
    [1, 'close ,x'],
    [1, 'te, close'],
    [1, 'keep-alivex'],
    [1, 'xclose'],
    [1, 'clos'],
    [1, 'close\tx'],
  ]);
}

/** Header fields as [name, value] pairs, plus the body framing the generator chose. */
function fields(r, m, v) {
  const out = [];
  const push = (name, value) => out.splice(r.int(out.length + 1), 0, [name, value]);
  const hostCount = v === 'HTTP/1.1' ? r.weighted([[90, 1], [5, 0], [4, 2], [1, 3]]) : r.weighted([[50, 0], [45, 1], [5, 2]]);
  for (let i = 0; i < hostCount; i++) push(caseVariant(r, 'Host'), hostValue(r));
  const others = r.weighted([[40, 0], [30, 1], [20, 3], [8, 6], [2, () => r.range(30, 40)]]);
  for (let i = 0; i < others; i++) {
    const name = r.weighted([[10, () => r.pick(OTHER_NAMES)], [6, () => r.string(TCHAR, r.range(1, 10))], [1, () => r.string(ALNUM, 3) + r.pick(ODD) + r.string(ALNUM, 2)]]);
    push(name, fieldValue(r));
  }
  const connection = () => caseVariant(r, r.chance(0.85) ? 'Connection' : 'Proxy-Connection');
  if (r.chance(0.2)) push(connection(), connectionValue(r));
  if (r.chance(0.03)) push(connection(), connectionValue(r));
  if (r.chance(0.06)) push(caseVariant(r, 'Upgrade'), r.pick(['websocket', 'h2c', 'foo', '']));
  if (r.chance(0.08)) push(caseVariant(r, 'Expect'), r.pick(['100-continue', '100-continue', '100-Continue', 'foo', '100-continue, foo', '', '200-ok', '100-continuex']));
  if (r.chance(0.01)) push(caseVariant(r, 'Expect'), '100-continue');

  // Body framing.
  const framing = r.weighted([[50, 'none'], [25, 'length'], [20, 'chunked'], [3, 'both'], [2, 'double-length']]);
  let bodyLength = r.weighted([[2, 0], [6, () => r.range(1, 20)], [1, () => r.range(100, 3000)]]);
  let chunked = false;
  let contentLength = -1;
  if (framing === 'length' || framing === 'both' || framing === 'double-length') {
    const value = contentLengthValue(r, bodyLength);
    push(caseVariant(r, 'Content-Length'), value);
    contentLength = /^[0-9]+$/.test(value) && value.length < 10 ? Number(value) : bodyLength;
    if (framing === 'double-length') push(caseVariant(r, 'Content-Length'), r.chance(0.5) ? value : contentLengthValue(r, bodyLength));
  }
  if (framing === 'chunked' || framing === 'both') {
    const te = transferEncodingValue(r);
    if (r.chance(0.1)) {
      // Split over two fields.
      push(caseVariant(r, 'Transfer-Encoding'), r.pick(['gzip', 'chunked', 'identity']));
    }
    push(caseVariant(r, 'Transfer-Encoding'), te);
    chunked = true;
  }
  return { fields: out, chunked, contentLength };
}

function chunkExtension(r) {
  return r.weighted([
    [6, () => ';' + r.string(ALNUM, r.range(1, 4))],
    [5, () => ';' + r.string(ALNUM, r.range(1, 4)) + '=' + r.string(TCHAR, r.range(1, 4))],
    [3, () => ';' + r.string(ALNUM, 2) + '="' + r.string(ALNUM + ' \\"', r.range(0, 5)).replace(/\\$/, '').replace(/(^|[^\\])"/g, '$1') + '"'],
    [1, () => ';' + r.string(ALNUM, 2) + '="a\\"b"'],
    [0.3, () => ';a=' + 'v'.repeat(r.range(6000, 9000))],
    [1, () => r.pick([' ;a', '; a', ';a =b', ';a= b', ';', ';=', ';a=', ';a="', ';a="b', ';a=b c', '\t;a', ';a;b;c', ';a=\x80', ';a="\x80"', ';a="\x00"'])],
  ]);
}

function chunkedBody(r) {
  let s = '';
  const chunks = r.weighted([[2, 0], [5, 1], [3, () => r.range(2, 4)]]);
  // Now and then, long extensions on every chunk.
  const long = r.chance(0.02);
  const extension = long ? () => ';a=' + 'v'.repeat(r.range(5000, 9000)) : () => chunkExtension(r);
  const extensionChance = long ? 1 : 0.15;
  for (let i = 0; i < chunks; i++) {
    const n = r.weighted([[8, () => r.range(1, 20)], [1, () => r.range(100, 600)]]);
    let size = n.toString(16);
    size = r.weighted([
      [10, size], [2, size.toUpperCase()], [1, '00' + size], [1, () => size + ' '], [1, () => ' ' + size], [1, () => '+' + size], [1, () => '0x' + size],
      [0.3, () => r.pick(['fffffffffffff', '10000000000000', 'ffffffffffffffff', '10000000000000000', '0000000000000000000001'])],
    ]);
    s += size + (r.chance(extensionChance) ? extension() : '') + '\r\n' + r.string(ALNUM + '\r\n', n) + '\r\n';
  }
  s += r.pick(['0', '0', '0', '00', '000']) + (r.chance(0.1) ? chunkExtension(r) : '') + '\r\n';
  const trailers = r.weighted([[8, 0], [2, 1], [1, 2]]);
  for (let i = 0; i < trailers; i++) {
    const name = r.weighted([[5, () => 'X-' + r.string(ALNUM, 3)], [1, 'Content-Length'], [1, 'Transfer-Encoding'], [1, 'Host'], [1, () => r.string(ALNUM, 2) + r.pick(ODD)]]);
    const value = name === 'Transfer-Encoding' && r.chance(0.5) ? r.pick(['gzip', 'chunked', '']) : fieldValue(r);
    s += name + ':' + ows(r) + value + ows(r) + '\r\n';
  }
  return s + '\r\n';
}

/** One request as a latin1 string. */
function request(r) {
  const m = method(r);
  const t = target(r, m);
  const v = version(r);
  const sp1 = r.weighted([[40, ' '], [1, '  '], [1, '\t'], [1, '']]);
  const sp2 = v === '' ? r.weighted([[3, ''], [1, ' ']]) : r.weighted([[40, ' '], [1, '  '], [1, '\t']]);
  let s = m + sp1 + t + sp2 + v + '\r\n';
  const f = fields(r, m, v);
  for (const [name, value] of f.fields) {
    const colon = r.weighted([[200, ':'], [1, ' :'], [1, '\t:'], [1, '']]);
    s += name + colon + ows(r) + value + (r.chance(0.1) ? ows(r) : '') + '\r\n';
  }
  if (r.chance(0.02)) s += r.pick([' folded\r\n', '\tfolded\r\n']);
  s += '\r\n';
  if (f.chunked) s += chunkedBody(r);
  else if (f.contentLength > 0) s += r.string(ALNUM + '\r\n', f.contentLength);
  return s;
}

const MUTATIONS = [
  [6, 'flip'],
  [4, 'insert'],
  [4, 'delete'],
  [2, 'duplicate-line'],
  [4, 'line-ending'],
  [3, 'space'],
  [2, 'case'],
  [2, 'splice'],
  [2, 'truncate'],
];

/** Where the CRLFs are, to aim mutations at line ends and line starts. */
function crlfs(s) {
  const at = [];
  for (let i = s.indexOf('\r\n'); i !== -1; i = s.indexOf('\r\n', i + 1)) at.push(i);
  return at;
}

function mutate(r, s) {
  const kind = r.weighted(MUTATIONS);
  const pos = r.int(s.length + 1);
  switch (kind) {
    case 'flip': {
      if (s.length === 0) return s;
      const p = Math.min(pos, s.length - 1);
      const b = r.chance(0.6) ? r.pick(ODD) : String.fromCharCode(r.int(256));
      return s.slice(0, p) + b + s.slice(p + 1);
    }
    case 'insert':
      return s.slice(0, pos) + (r.chance(0.7) ? r.pick(ODD) : r.string(VCHAR, r.range(1, 3))) + s.slice(pos);
    case 'delete': {
      const n = r.weighted([[5, 1], [2, 2], [1, () => r.range(3, 20)]]);
      return s.slice(0, pos) + s.slice(pos + n);
    }
    case 'duplicate-line': {
      const ends = crlfs(s);
      if (ends.length < 2) return s;
      const i = r.int(ends.length - 1);
      const line = s.slice(ends[i] + 2, ends[i + 1] + 2);
      return s.slice(0, ends[i + 1] + 2) + line + s.slice(ends[i + 1] + 2);
    }
    case 'line-ending': {
      const ends = crlfs(s);
      if (ends.length === 0) return s;
      const p = r.pick(ends);
      const replacement = r.weighted([[4, '\n'], [3, '\r'], [1, '\r\r\n'], [1, '\n\r'], [1, '\r\n\r\n'], [1, '']]);
      return s.slice(0, p) + replacement + s.slice(p + 2);
    }
    case 'space': {
      // Whitespace where it matters most: at a line start, before a colon, before a line end.
      const ends = crlfs(s);
      const where = r.int(3);
      let p = pos;
      if (where === 0 && ends.length) p = r.pick(ends) + 2;
      else if (where === 1) {
        const colon = s.indexOf(':', pos);
        if (colon !== -1) p = colon;
      } else if (ends.length) p = r.pick(ends);
      return s.slice(0, p) + r.pick([' ', '\t', '  ', ' \t']) + s.slice(p);
    }
    case 'case': {
      const n = r.range(1, 12);
      const part = s.slice(pos, pos + n);
      const changed = r.chance(0.5) ? part.toUpperCase() : part.toLowerCase();
      return s.slice(0, pos) + changed + s.slice(pos + n);
    }
    case 'splice': {
      const other = request(r);
      return s.slice(0, pos) + other.slice(r.int(other.length + 1));
    }
    case 'truncate':
      return s.slice(0, pos);
  }
  return s;
}

/** The input for one seed: latin1 bytes. */
export function generateInput(seed) {
  const r = new Rng(seed);
  const count = r.weighted([[6, 1], [3, 2], [1, 3]]);
  let s = '';
  for (let i = 0; i < count; i++) {
    if (i > 0 && r.chance(0.1)) s += r.pick(['\r\n', '\r\n\r\n', '\n', '\r']);
    s += request(r);
  }
  if (r.chance(0.45)) {
    const n = r.weighted([[6, 1], [3, 2], [1, 3]]);
    for (let i = 0; i < n; i++) s = mutate(r, s);
  }
  // Where to split the input for the second run of our parser.
  const split = r.int(s.length + 1);
  return { bytes: Buffer.from(s, 'latin1'), split };
}
