// Persistent connections and pipelining (SPEC §3, --max-keepalive-reqs):
// when a connection stays open and when it ends, answers in order one at a
// time, nothing read after a `close`, and a lingering close that does not
// lose the last response to a reset.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RawConnection, httpRequest, sendAndHalfClose, writeAfterFin } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';
import { LINGER_MS } from '../../dist/http/limits.js';

const APP = new URL('../fixtures/http-app.mjs', import.meta.url).pathname;

let server;
let max3;
let max1;
before(async () => {
  [server, max3, max1] = await Promise.all([
    startServer(['--workers=0', APP]),
    startServer(['--workers=0', '--max-keepalive-reqs=3', APP]),
    startServer(['--workers=0', '--max-keepalive-reqs=1', APP]),
  ]);
});
after(async () => {
  await Promise.all([server?.stop(), max3?.stop(), max1?.stop()]);
});

/** Sends `bytes` on a new connection and waits for `n` responses and then the server's close (or 1 s). */
async function talk(port, bytes, n, methods) {
  const c = await RawConnection.connect(port);
  c.write(bytes);
  const parsed = await c.responses(n, { methods });
  assert.equal(parsed.error, null, `framing: ${parsed.error}`);
  return { c, parsed };
}

/** What the app says about a path it may have been handed. */
async function seen(path) {
  const c = await RawConnection.connect(server.port);
  c.write(httpRequest('GET', `/seen?path=${encodeURIComponent(path)}`, { headers: { Connection: 'close' } }));
  const parsed = await c.responses(1);
  c.destroy();
  return Number(parsed.responses[0].text);
}

/** Sends `bytes`, ends our side, waits for the server's FIN; the responses, whose framing is checked. */
async function sendAndEnd(bytes) {
  const { closed, responses, error } = await sendAndHalfClose(server.port, bytes);
  assert.equal(closed, 'fin');
  assert.equal(error, null);
  return responses;
}

describe('keep-alive', () => {
  test('HTTP/1.1 persists by default: requests one after another on one connection', async () => {
    const c = await RawConnection.connect(server.port);
    for (let i = 1; i <= 3; i++) {
      c.write(httpRequest('GET', `/echo/${i}`));
      const parsed = await c.responses(i);
      assert.equal(parsed.error, null);
      assert.equal(parsed.responses.length, i);
      const r = parsed.responses[i - 1];
      assert.equal(r.text, `GET /echo/${i} 0`);
      assert.equal(r.header('connection'), undefined, 'no Connection field on a persistent 1.1 response');
    }
    assert.equal(c.closed, null);
    c.destroy();
  });

  for (const fields of [
    [['Connection', 'close']],
    [['Connection', 'foo, close']],
    [['Connection', 'keep-alive, CLOSE']],
    [['Connection', 'foo'], ['Connection', 'close']],
  ]) {
    test(`Connection: close as a list token ends the connection (${fields.map(([, v]) => JSON.stringify(v)).join(' + ')})`, async () => {
      const tag = `/after-close-${Math.random().toString(36).slice(2)}`;
      const bytes = Buffer.concat([httpRequest('GET', '/echo', { headers: fields }), httpRequest('GET', tag)]);
      const { c, parsed } = await talk(server.port, bytes, 1);
      assert.equal(await c.waitClosed(), 'fin');
      const final = c.parse();
      assert.equal(final.error, null);
      assert.equal(final.responses.length, 1, 'the request after the close is not answered');
      assert.equal(parsed.responses[0].header('connection'), 'close');
      c.destroy();
      assert.equal(await seen(tag), 0, 'nor handed to the app');
    });
  }

  test('an app that sets Connection: close ends the connection (one Connection field)', async () => {
    const tag = `/after-app-close-${Math.random().toString(36).slice(2)}`;
    const { c, parsed } = await talk(server.port, Buffer.concat([httpRequest('GET', '/app-close'), httpRequest('GET', tag)]), 1);
    assert.deepEqual(parsed.responses[0].all('connection'), ['close']);
    assert.equal(await c.waitClosed(), 'fin');
    assert.equal(c.parse().responses.length, 1);
    c.destroy();
    assert.equal(await seen(tag), 0);
  });

  test('HTTP/1.0 without keep-alive: the response says close and the server closes', async () => {
    const { c, parsed } = await talk(server.port, httpRequest('GET', '/fixed', { version: '1.0' }), 1);
    assert.equal(parsed.responses[0].header('connection'), 'close');
    assert.equal(parsed.responses[0].text, 'hello world');
    assert.equal(await c.waitClosed(), 'fin');
    c.destroy();
  });

  test('HTTP/1.0 with keep-alive and a known length persists', async () => {
    const request = httpRequest('GET', '/fixed', { version: '1.0', headers: { Connection: 'keep-alive' } });
    const { c, parsed } = await talk(server.port, request, 1);
    assert.equal(parsed.responses[0].header('connection'), 'keep-alive');
    assert.equal(parsed.responses[0].header('content-length'), '11');
    c.write(request);
    const second = await c.responses(2);
    assert.equal(second.error, null);
    assert.equal(second.responses.length, 2);
    assert.equal(c.closed, null);
    c.destroy();
  });

  test('HTTP/1.0 with keep-alive but an unknown length: close-delimited, then closed', async () => {
    const request = httpRequest('GET', '/stream?n=3&size=4&delay=5', { version: '1.0', headers: { Connection: 'keep-alive' } });
    const c = await RawConnection.connect(server.port);
    c.write(request);
    assert.equal(await c.waitClosed(), 'fin');
    const parsed = c.parse();
    assert.equal(parsed.error, null);
    const [r] = parsed.responses;
    assert.equal(r.framing, 'close');
    assert.equal(r.header('transfer-encoding'), undefined);
    assert.equal(r.header('connection'), 'close');
    assert.equal(r.text, 'xxxx'.repeat(3));
    c.destroy();
  });
});

describe('--max-keepalive-reqs', () => {
  test('=3: the third response says close, the fourth request is not answered', async () => {
    const tag = `/fourth-${Math.random().toString(36).slice(2)}`;
    const bytes = Buffer.concat([httpRequest('GET', '/echo/1'), httpRequest('GET', '/echo/2'), httpRequest('GET', '/echo/3'), httpRequest('GET', tag)]);
    const { c } = await talk(max3.port, bytes, 3);
    assert.equal(await c.waitClosed(), 'fin');
    const parsed = c.parse();
    assert.equal(parsed.error, null);
    assert.deepEqual(
      parsed.responses.map((r) => [r.text, r.header('connection')]),
      [
        ['GET /echo/1 0', undefined],
        ['GET /echo/2 0', undefined],
        ['GET /echo/3 0', 'close'],
      ],
    );
    c.destroy();
  });

  test('=3 counts per connection: sequential requests, then close', async () => {
    const c = await RawConnection.connect(max3.port);
    for (let i = 1; i <= 3; i++) {
      c.write(httpRequest('GET', '/fixed'));
      const parsed = await c.responses(i);
      assert.equal(parsed.responses.length, i);
      assert.equal(parsed.responses[i - 1].close, i === 3);
    }
    assert.equal(await c.waitClosed(), 'fin');
    c.destroy();
  });

  test('=1 turns keep-alive off: the first response says close', async () => {
    const bytes = Buffer.concat([httpRequest('GET', '/echo/1'), httpRequest('GET', '/echo/2')]);
    const { c } = await talk(max1.port, bytes, 1);
    assert.equal(await c.waitClosed(), 'fin');
    const parsed = c.parse();
    assert.equal(parsed.error, null);
    assert.equal(parsed.responses.length, 1);
    assert.equal(parsed.responses[0].header('connection'), 'close');
    c.destroy();
  });
});

describe('pipelining', () => {
  test('answers in order, one at a time, even when a later one is quicker', async () => {
    const bytes = Buffer.concat([httpRequest('GET', '/slow?ms=150'), httpRequest('GET', '/echo/a'), httpRequest('HEAD', '/fixed'), httpRequest('GET', '/echo/b')]);
    const { c, parsed } = await talk(server.port, bytes, 4, ['GET', 'GET', 'HEAD', 'GET']);
    assert.deepEqual(
      parsed.responses.map((r) => r.text),
      ['slow 150', 'GET /echo/a 0', '', 'GET /echo/b 0'],
    );
    assert.equal(parsed.responses[2].header('content-length'), '11');
    c.destroy();
  });

  test('pipelined requests with bodies (Content-Length and chunked) each get their own body', async () => {
    const bytes = Buffer.concat([
      httpRequest('POST', '/echo-body', { body: 'first' }),
      httpRequest('POST', '/echo-body', { headers: { 'Transfer-Encoding': 'chunked' }, body: '6\r\nsecond\r\n0\r\n\r\n' }),
      httpRequest('GET', '/echo/third'),
    ]);
    const { c, parsed } = await talk(server.port, bytes, 3);
    assert.deepEqual(
      parsed.responses.map((r) => r.text),
      ['first', 'second', 'GET /echo/third 0'],
    );
    c.destroy();
  });

  test('requests waiting behind a slow one are intact after other connections\' reads (the read buffer is shared)', async () => {
    const waiting = await RawConnection.connect(server.port);
    waiting.write(
      Buffer.concat([httpRequest('GET', '/slow?ms=150'), httpRequest('POST', '/echo-body', { body: 'held body' }), httpRequest('GET', '/echo/held')]),
    );
    // Meanwhile another connection's reads land in the same buffer.
    for (let i = 0; i < 3; i++) {
      const { c, parsed } = await talk(server.port, httpRequest('POST', '/echo-body', { body: 'x'.repeat(600 + i), headers: { Connection: 'close' } }), 1);
      assert.equal(parsed.responses[0].text, 'x'.repeat(600 + i));
      c.destroy();
    }
    const parsed = await waiting.responses(3);
    assert.equal(parsed.error, null, `framing: ${parsed.error}`);
    assert.deepEqual(
      parsed.responses.map((r) => r.text),
      ['slow 150', 'held body', 'GET /echo/held 0'],
    );
    waiting.destroy();
  });

  test('after a Connection: close request nothing more is answered or handed to the app', async () => {
    const tag = `/never-${Math.random().toString(36).slice(2)}`;
    const bytes = Buffer.concat([
      httpRequest('GET', '/echo/1'),
      httpRequest('GET', '/echo/2', { headers: { Connection: 'close' } }),
      httpRequest('GET', tag),
      httpRequest('GET', tag),
    ]);
    const { c } = await talk(server.port, bytes, 2);
    assert.equal(await c.waitClosed(), 'fin');
    const parsed = c.parse();
    assert.equal(parsed.error, null);
    assert.deepEqual(
      parsed.responses.map((r) => r.text),
      ['GET /echo/1 0', 'GET /echo/2 0'],
    );
    c.destroy();
    assert.equal(await seen(tag), 0);
  });
});

describe('a client that half-closes (sends its FIN) after its requests', () => {
  test('every whole request it sent is answered, in order, then the server closes', async () => {
    const responses = await sendAndEnd(
      Buffer.concat([httpRequest('GET', '/slow?ms=100'), httpRequest('GET', '/echo/2'), httpRequest('POST', '/echo/3', { body: 'abc' }), Buffer.from('GET /partial-head HTTP/1.1\r\nHo')]),
    );
    assert.deepEqual(
      responses.map((r) => r.text),
      ['slow 100', 'GET /echo/2 0', 'POST /echo/3 3'],
    );
  });

  test('a body cut short by the FIN is refused (400) after the answers before it', async () => {
    const responses = await sendAndEnd(Buffer.concat([httpRequest('GET', '/slow?ms=50'), httpRequest('POST', '/echo/short', { headers: { 'Content-Length': '10' }, body: 'abc' })]));
    assert.deepEqual(
      responses.map((r) => [r.status, r.header('x-app')]),
      [
        [200, '1'],
        [400, undefined],
      ],
    );
  });

  test('an app that answers without reading the cut-short body: answered, then closed', async () => {
    const responses = await sendAndEnd(Buffer.concat([httpRequest('GET', '/slow?ms=50'), httpRequest('POST', '/noread', { headers: { 'Content-Length': '10' }, body: 'abc' })]));
    assert.deepEqual(
      responses.map((r) => r.text),
      ['slow 50', 'did not read'],
    );
  });
});

describe('lingering close', () => {
  // RFC 9112 §9.6: closed at once, a connection answers such bytes with a reset, which can erase
  // the response before the client has read it; so every close is staged, the client's asked for too.
  test('a close the client asked for lingers: bytes it sends after the FIN are read and dropped, not reset', async () => {
    assert.equal(await writeAfterFin(server.port, httpRequest('GET', '/', { headers: { Connection: 'close' } })), 'read and dropped');
  });

  test('a close the server decided lingers: bytes the client sends after the FIN are read and dropped', async () => {
    assert.equal(await writeAfterFin(max1.port, httpRequest('GET', '/')), 'read and dropped');
  });

  test('a close lingers LINGER_MS at most: a client that never closes its side is then closed on (late bytes reset)', async () => {
    // (The server's sweep ends it within one period, at most a second, after the deadline.)
    const outcome = await writeAfterFin(server.port, httpRequest('GET', '/', { headers: { Connection: 'close' } }), { afterMs: LINGER_MS + 1500 });
    assert.match(outcome, /^(ECONNRESET|EPIPE)$/, 'the server had closed: the late bytes were answered with a reset');
  });

  test('a Connection: close request followed by megabytes more still gets its whole response, then a FIN', async () => {
    const size = 4_000_000;
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('GET', `/big?n=${size}`, { headers: { Connection: 'close' } }));
    // The server stops parsing at the close, but the client goes on sending: without a
    // lingering close, closing with unread bytes would reset the connection and the client
    // could lose the end of the response.
    const junk = Buffer.concat(Array.from({ length: 64 }, () => httpRequest('POST', '/echo', { body: 'z'.repeat(100_000) })));
    c.write(junk);
    assert.equal(await c.waitClosed(10_000), 'fin');
    const parsed = c.parse();
    assert.equal(parsed.error, null);
    assert.equal(parsed.responses.length, 1);
    assert.equal(parsed.responses[0].body.length, size);
    c.destroy();
  });
});
