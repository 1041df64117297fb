// Refusals on a Node app's connection (found by campaign/fuzz.mjs):
// - a request refused by starlight's own checks (a second Host, a bad
//   version) answers the connection once, then closes it: bytes after it that
//   node:http's parser refuses get no second response (there was a 400 after
//   the first one's `Connection: close`);
// - a good request and, in the same packet, one whose body is malformed: the
//   good one is answered, then the 400 (the 400 came alone, the first
//   request's response lost), nor when the server had refused that one
//   already (an invalid Host): both answers, then the close (the connection
//   was cut, the first answer lost);
// - an Expect other than 100-continue: one 417 and the close, as for a Fetch
//   app (node:http's own 417 kept the connection, and a body cut short after
//   it got a 400 as well: two answers to one request);
// - a HEAD whose chunked body is malformed: the 400 has no body (it had one,
//   which a client reading the answer to a HEAD takes for the next response).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RawConnection, exchange } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const APP = new URL('../fixtures/node-app.mjs', import.meta.url).pathname;

let server;
before(async () => {
  server = await startServer(['--workers=0', APP]);
});
after(() => server?.stop());

for (const [what, head] of [
  ['two Host fields', 'POST / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n'],
  ['an invalid Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n'],
]) {
  test(`${what}, then bytes node:http refuses: one 400 or 505, then the close`, async () => {
    // exchange() fails on any byte after a Connection: close response.
    const { responses } = await exchange(server.port, `${head}064;x\r\n${'z'.repeat(100)}\r\n0\r\n\r\n`);
    assert.equal(responses.length, 1);
    assert.ok([400, 505].includes(responses[0].status), String(responses[0].status));
    assert.ok(responses[0].close);
  });
}

for (const first of ['GET /inspect HTTP/1.1\r\nHost: x\r\n\r\n', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab']) {
  test(`${first.slice(0, first.indexOf(' HTTP'))}, then in the same write a request with a malformed chunked body: 200, then 400, then the close`, async () => {
    const { responses } = await exchange(server.port, `${first}POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`);
    assert.deepEqual(responses.map((r) => r.status), [200, 400]);
    assert.ok(responses[1].close);
  });

  test(`${first.slice(0, first.indexOf(' HTTP'))}, then in the same write a request with an invalid Host and a malformed chunked body: 200, then 400, then the close`, async () => {
    const { responses } = await exchange(server.port, `${first}POST /echo HTTP/1.1\r\nHost: a b\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`);
    assert.deepEqual(responses.map((r) => r.status), [200, 400]);
    assert.ok(responses[1].close);
  });
}

test('Expect other than 100-continue: one 417 from starlight, then the close, even when the body is cut short', async () => {
  const c = await RawConnection.connect(server.port);
  try {
    c.write('POST /echo HTTP/1.1\r\nHost: x\r\nExpect: other\r\nContent-Length: 3\r\n\r\n');
    c.end();
    const { responses } = await c.untilClosed();
    assert.deepEqual(responses.map((r) => r.status), [417]);
    assert.ok(responses[0].close);
    assert.match(responses[0].header('server') ?? '', /^starlight\//);
  } finally {
    c.destroy();
  }
});

test('a HEAD with a malformed chunked body: a 400 without body, then the close', async () => {
  const { responses, leftover } = await exchange(server.port, 'HEAD /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', { method: 'HEAD' });
  assert.deepEqual(responses.map((r) => r.status), [400]);
  assert.equal(responses[0].body.length, 0);
  assert.equal(leftover.length, 0);
});
