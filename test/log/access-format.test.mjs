// The access log's formats as functions (dist/log/access-format.js): escaping,
// %t, the json line, and the refusal of what a template cannot hold. The
// servers' lines are tested end to end in access-log.test.mjs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apacheTimestamp, compileAccessFormat, escapeLogText, RefusedRequest } from '../../dist/log/access-format.js';

const record = (fields = {}) => ({
  remoteAddress: '192.0.2.1', localAddress: '192.0.2.9', localPort: 8080, method: 'POST', target: '/a/b?c=d',
  protocol: 'HTTP/1.0', requestLine: 'POST /a/b?c=d HTTP/1.0', status: 201, bytesSent: 0,
  requestField: (name) => fields[name] ?? null, responseField: (name) => (name === 'x-out' ? 'o"ut' : null),
});

test('escaping: \\" \\\\ and \\xHH for controls and bytes outside printable ASCII; UTF-8 bytes beyond latin1', () => {
  assert.equal(escapeLogText('plain text ~!'), 'plain text ~!');
  assert.equal(escapeLogText('a"b\\c'), 'a\\"b\\\\c');
  assert.equal(escapeLogText('\n\r\t\x00\x1b\x7f'), '\\x0a\\x0d\\x09\\x00\\x1b\\x7f');
  assert.equal(escapeLogText('\xe9\xff'), '\\xe9\\xff');
  assert.equal(escapeLogText('\u20ac\u{1f600}'), '\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80');
});

test('%t: day/Mon/year:HH:MM:SS and the zone offset of the local time', () => {
  const time = Date.UTC(2000, 9, 10, 20, 55, 36, 500);
  const local = new Date(time);
  const offset = -local.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  const pad = (n) => String(n).padStart(2, '0');
  const expected = `[${pad(local.getDate())}/Oct/2000:${pad(local.getHours())}:${pad(local.getMinutes())}:${pad(local.getSeconds())} ${zone}]`;
  assert.equal(apacheTimestamp(time), expected);
  assert.equal(apacheTimestamp(time + 400), expected, 'the same second, the same text');
  assert.notEqual(apacheTimestamp(time + 600), expected, 'the next second');
});

test('common and combined: missing fields are -, a body of none is -', () => {
  const at = Date.now();
  const t = apacheTimestamp(at);
  assert.equal(compileAccessFormat('common', { worker: 1, pid: 2 })(record(), at, 1), `192.0.2.1 - - ${t} "POST /a/b?c=d HTTP/1.0" 201 -`);
  assert.equal(
    compileAccessFormat('combined', { worker: 1, pid: 2 })(record({ 'user-agent': 'ua "x"' }), at, 1),
    `192.0.2.1 - - ${t} "POST /a/b?c=d HTTP/1.0" 201 - "-" "ua \\"x\\""`,
  );
});

test('a line made again for each request: one item changed, then back, gives each its own line', () => {
  const format = compileAccessFormat('%h %r %>s %b %{X-In}i %{X-Out}o %U', { worker: 1, pid: 2 });
  const base = record({ 'x-in': 'in' });
  const changes = [
    ['remoteAddress', '192.0.2.2'], ['method', 'GET'], ['target', '/z?q'], ['protocol', 'HTTP/1.1'], ['status', 404], ['bytesSent', 7],
    ['requestField', (name) => (name === 'x-in' ? 'other' : null)], ['responseField', () => 'out2'],
  ];
  const first = format(base, 0, 0);
  assert.equal(first, '192.0.2.1 POST /a/b?c=d HTTP/1.0 201 - in o\\"ut /a/b');
  for (const [key, value] of changes) {
    const changed = format({ ...base, [key]: value }, 0, 0);
    assert.notEqual(changed, first, `${key} changed`);
    assert.equal(changed, format({ ...base, [key]: value }, 0, 0), `${key}: the same line again`);
    assert.equal(format(base, 0, 0), first, `${key} back`);
  }
});

test('json: the fields, JSON-escaped, null where absent', () => {
  const line = compileAccessFormat('json', { worker: 3, pid: 77 })(record({ referer: 'r\n"' }), Date.UTC(2020, 0, 2, 3, 4, 5, 6), 1.23456);
  assert.equal(
    line,
    '{"time":"2020-01-02T03:04:05.006Z","remote_addr":"192.0.2.1","method":"POST","url":"/a/b?c=d","protocol":"HTTP/1.0",' +
      '"status":201,"bytes":0,"duration_ms":1.235,"referer":"r\\n\\"","user_agent":null,"worker":3,"pid":77}',
  );
});

test('a template: every directive', () => {
  const format = compileAccessFormat('%h|%a|%A|%p|%l|%u|%r|%m|%U|%q|%H|%s|%>s|%b|%B|%D|%T|%{s}T|%{ms}T|%{us}T|%{Host}i|%{X-Out}o|%{X-None}o|%P|%%', { worker: 1, pid: 2 });
  assert.equal(
    format(record({ host: 'h.example' }), Date.now(), 2345.6789),
    `192.0.2.1|192.0.2.1|192.0.2.9|8080|-|-|POST /a/b?c=d HTTP/1.0|POST|/a/b|?c=d|HTTP/1.0|201|201|-|0|2345679|2|2|2346|2345679|h.example|o\\"ut|-|${process.pid}|%`,
  );
});

test('a refused request: what was read of its line, split as a request line', () => {
  const refused = new RefusedRequest('GET /x\x01', 400, 11, '192.0.2.1', undefined, undefined);
  const at = Date.now();
  assert.equal(compileAccessFormat('common', { worker: 1, pid: 2 })(refused, at, 0), `192.0.2.1 - - ${apacheTimestamp(at)} "GET /x\\x01" 400 11`);
  // Split at its first two spaces, put back together as read.
  const spaced = new RefusedRequest('GET  /a b\\c"', 400, 11, '192.0.2.1', undefined, undefined);
  assert.deepEqual([spaced.method, spaced.target, spaced.protocol], ['GET', '', '/a b\\c"']);
  assert.equal(compileAccessFormat('"%r"', { worker: 1, pid: 2 })(spaced, at, 0), '"GET  /a b\\\\c\\""');
  const json = JSON.parse(compileAccessFormat('json', { worker: 1, pid: 2 })(new RefusedRequest('', 408, 15, undefined, undefined, undefined), at, 0));
  assert.deepEqual([json.method, json.url, json.protocol, json.status, json.remote_addr], ['', '', '', 408, null]);
});

test('what a template cannot hold is refused, naming it', () => {
  for (const [template, named] of [
    ['%Z', '%Z is not a supported directive'],
    ['%{Referer}x', '%{Referer}x is not a supported directive'],
    ['%{min}T', '%{min}T is not a supported directive'],
    ['%{a:b}i', 'not a field name'],
    ['%{Host', 'an unclosed %{'],
    ['x %', 'a lone % at the end'],
    ['%<s', '%< is not a supported directive'],
    ['a\tb', 'a control character'],
  ]) {
    assert.throws(() => compileAccessFormat(template, { worker: 1, pid: 2 }), (error) => error.name === 'UsageError' && error.message.startsWith('--access-log-format: ') && error.message.includes(named), template);
  }
});
