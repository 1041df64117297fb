// The raw test client the HTTP tests rely on: what its parser accepts, that
// every framing error it is meant to catch is caught, the response still
// arriving, and the connection's waits against a scripted server on 127.0.0.1.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';

import { RawConnection, exchange, httpRequest, parseResponses } from './raw.mjs';

const parse = (text, options) => parseResponses(Buffer.from(text, 'latin1'), options);
const OK = 'HTTP/1.1 200 OK\r\n';

describe('parseResponses', () => {
  test('Content-Length, chunked (with trailers), HEAD, 1xx, 204, 304 and close-delimited bodies', () => {
    const stream =
      'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n' +
      `${OK}Content-Length: 3\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nabc` +
      `${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\nX-T: 1\r\n\r\n` +
      `${OK}Content-Length: 11\r\n\r\n` +
      'HTTP/1.1 204 No Content\r\n\r\n' +
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n' +
      `${OK}Connection: close\r\n\r\nto the end`;
    const r = parse(stream, { methods: ['GET', 'GET', 'HEAD', 'GET', 'GET', 'GET'], closed: true });
    assert.equal(r.error, null);
    assert.deepEqual(
      r.all.map((x) => [x.status, x.framing, x.text]),
      [
        [103, 'none', ''],
        [200, 'length', 'abc'],
        [200, 'chunked', 'hello'],
        [200, 'none', ''],
        [204, 'none', ''],
        [304, 'none', ''],
        [200, 'close', 'to the end'],
      ],
    );
    assert.deepEqual(r.responses[0].all('set-cookie'), ['a=1', 'b=2']);
    assert.deepEqual(r.responses[1].trailers, [['X-T', '1']]);
    assert.equal(r.interim.length, 1);
  });

  test('a response not complete yet is incomplete while open, an error once closed', () => {
    const partial = `${OK}Content-Length: 10\r\n\r\nabc`;
    assert.deepEqual([parse(partial).incomplete, parse(partial).error], [true, null]);
    assert.match(parse(partial, { closed: true }).error, /closed inside a response/);
    assert.equal(parse(`${OK}Content-Length: 3\r\n\r\nabc`).incomplete, false);
  });

  test('the response the data ends inside is partial: its head and its body so far', () => {
    const chunked = `${OK}Transfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n2\r\nhe\r\n5\r\nll`;
    const open = parse(chunked);
    assert.deepEqual([open.all.length, open.incomplete, open.error], [0, true, null]);
    assert.deepEqual([open.partial.complete, open.partial.text, open.partial.chunks.map(String)], [false, 'hell', ['he', 'll']]);
    assert.equal(open.partial.get('x-a'), '1, 2');
    assert.equal(open.partial.get('x-b'), null);
    const cut = parse(`${OK}Content-Length: 3\r\n\r\nxyz${OK}Content-Length: 10\r\n\r\nabc`, { closed: true });
    assert.deepEqual([cut.all.length, cut.partial.text, cut.partial.complete], [1, 'abc', false]);
    assert.match(cut.error, /closed inside a response/);
    assert.equal(parse(`${OK}Content-Le`).partial, null, 'no head yet');
    assert.equal(parse(`${OK}Content-Length: 3\r\n\r\nabc`).partial, null);
    assert.equal(parse(`${OK}Content-Length: 3\r\n\r\nabc`).all[0].complete, true);
  });

  test('method: names the first final response\'s method, as methods does', () => {
    const stream = `HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 3\r\n\r\n${OK}Content-Length: 3\r\n\r\nabc`;
    for (const options of [{ method: 'HEAD' }, { methods: ['HEAD'] }]) {
      const r = parse(stream, options);
      assert.equal(r.error, null);
      assert.deepEqual(r.all.map((x) => [x.status, x.text]), [[100, ''], [200, ''], [200, 'abc']]);
    }
  });

  for (const [what, stream] of [
    ['an HTTP/1.0 status line', 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ['garbage', 'hello\r\n\r\n'],
    ['a bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n'],
    ['a bare CR in a value', `${OK}X: a\rb\r\nContent-Length: 0\r\n\r\n`],
    ['space before the colon', `${OK}X : a\r\nContent-Length: 0\r\n\r\n`],
    ['two Content-Lengths', `${OK}Content-Length: 1\r\nContent-Length: 1\r\n\r\na`],
    ['a bad Content-Length', `${OK}Content-Length: 1x\r\n\r\na`],
    ['Content-Length with Transfer-Encoding', `${OK}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    ['a coding other than chunked', `${OK}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`],
    ['a 204 with a length', 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n'],
    ['a 1xx with chunked coding', 'HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['a bad chunk size', `${OK}Transfer-Encoding: chunked\r\n\r\nx\r\n`],
    ['a chunk extension', `${OK}Transfer-Encoding: chunked\r\n\r\n1;a=b\r\nx\r\n0\r\n\r\n`],
    ['chunk data too long', `${OK}Transfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n`],
    ['bytes after a Connection: close response', `${OK}Connection: close\r\nContent-Length: 0\r\n\r\n${OK}Content-Length: 0\r\n\r\n`],
  ]) {
    test(`fails on ${what}`, () => {
      assert.notEqual(parse(stream, { closed: true }).error, null);
    });
  }
});

describe('httpRequest', () => {
  test('adds Host to 1.1 requests and Content-Length to a body', () => {
    assert.equal(httpRequest('POST', '/x', { body: 'abc' }).toString('latin1'), 'POST /x HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc');
    assert.equal(httpRequest('GET', '/', { version: '1.0' }).toString('latin1'), 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(
      httpRequest('POST', '/', { headers: { host: null, 'Transfer-Encoding': 'chunked' }, body: '0\r\n\r\n' }).toString('latin1'),
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
  });
});

/** A server on 127.0.0.1 that answers each connection with `reply` (bytes), then closes unless `keepOpen`. */
async function scripted(reply, { keepOpen = false } = {}) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => (keepOpen ? socket.write(reply) : socket.end(reply)));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('RawConnection', () => {
  test('waitForText, untilClosed and exchange: whole responses, a cut one as partial', async () => {
    const server = await scripted(`${OK}Content-Length: 2\r\n\r\nok${OK}Content-Length: 9\r\n\r\ncut`);
    try {
      const c = await RawConnection.connect(server.port);
      c.write(httpRequest('GET', '/'));
      await c.waitForText('cut');
      assert.equal(c.text.slice(0, OK.length), OK);
      const r = await c.untilClosed();
      c.destroy();
      assert.deepEqual([r.all.map((x) => x.text), r.partial.text, r.partial.complete], [['ok'], 'cut', false]);
      const again = await exchange(server.port, httpRequest('GET', '/'));
      assert.deepEqual([again.all.length, again.partial.text], [1, 'cut']);
    } finally {
      await server.close();
    }
  });

  test('untilClosed and exchange throw on a framing error; waitForText when the text does not come', async () => {
    const server = await scripted(`${OK}Content-Length: 1\r\nContent-Length: 1\r\n\r\na`);
    try {
      await assert.rejects(exchange(server.port, httpRequest('GET', '/')), /not well-formed HTTP\/1\.1: 2 Content-Length fields/);
      const c = await RawConnection.connect(server.port);
      c.write(httpRequest('GET', '/'));
      await assert.rejects(c.waitForText('never'), /"never" not received \(fin\)/);
      c.destroy();
    } finally {
      await server.close();
    }
    const open = await scripted(`${OK}Content-Length: 1\r\n\r\na`, { keepOpen: true });
    try {
      const c = await RawConnection.connect(open.port);
      c.write(httpRequest('GET', '/'));
      await assert.rejects(c.untilClosed({}, 200), /not closed after 200 ms/);
      c.destroy();
    } finally {
      await open.close();
    }
  });

  test('drop() forgets responses already read; allowHalfOpen: false ends our side after the server\'s FIN', async () => {
    const server = await scripted(`${OK}Content-Length: 1\r\n\r\na${OK}Content-Length: 1\r\n\r\nb`);
    try {
      const c = await RawConnection.connect(server.port, { allowHalfOpen: false });
      const closed = new Promise((resolve) => c.socket.once('close', resolve));
      c.write(httpRequest('GET', '/'));
      const first = await c.responses(2);
      c.drop(first.all[0].end);
      assert.deepEqual(c.parse().all.map((r) => r.text), ['b']);
      await closed;
      assert.equal(c.closed, 'fin');
    } finally {
      await server.close();
    }
  });
});
