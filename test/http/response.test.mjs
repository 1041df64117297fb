// Responses (SPEC §3, --server-software): the status line, Date and Server,
// framing by Content-Length or chunked coding (close-delimited for HTTP/1.0),
// no body for HEAD (with the GET's Content-Length), 1xx, 204 and 304, 1xx from
// context.informational(), and app-set framing fields that cannot corrupt
// the framing.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { RawConnection, httpRequest } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const APP = new URL('../fixtures/http-app.mjs', import.meta.url).pathname;
const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

let server;
let named;
let anonymous;
before(async () => {
  [server, named, anonymous] = await Promise.all([
    startServer(['--workers=0', APP]),
    startServer(['--workers=0', '--server-software=Frobnitz/2', APP]),
    startServer(['--workers=0', '--server-software=', APP]),
  ]);
});
after(async () => {
  await Promise.all([server?.stop(), named?.stop(), anonymous?.stop()]);
});

/** Sends requests on one connection; resolves the parse once `n` final responses are in. */
async function talk(port, requests, n = requests.length, methods = undefined) {
  const c = await RawConnection.connect(port);
  c.write(Buffer.concat(requests));
  const parsed = await c.responses(n, { methods });
  c.destroy();
  assert.equal(parsed.error, null, `framing: ${parsed.error}`);
  assert.equal(parsed.responses.length, n);
  return parsed;
}

describe('Date and Server', () => {
  test('Date is an IMF-fixdate of now; Server is starlight/VERSION by default', async () => {
    const { responses } = await talk(server.port, [httpRequest('GET', '/fixed')]);
    const [r] = responses;
    assert.equal(r.all('date').length, 1);
    assert.match(r.header('date'), IMF_FIXDATE);
    assert.ok(Math.abs(Date.parse(r.header('date')) - Date.now()) < 5000, `${r.header('date')} is now`);
    assert.deepEqual(r.all('server'), [`starlight/${VERSION}`]);
  });

  test('the server’s own error responses carry them too', async () => {
    const { responses } = await talk(server.port, [Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
    assert.equal(responses[0].status, 400);
    assert.match(responses[0].header('date'), IMF_FIXDATE);
    assert.deepEqual(responses[0].all('server'), [`starlight/${VERSION}`]);
  });

  test('--server-software=X names the server', async () => {
    const { responses } = await talk(named.port, [httpRequest('GET', '/fixed'), Buffer.from('BAD\r\n\r\n')]);
    assert.deepEqual(responses.map((r) => r.all('server')), [['Frobnitz/2'], ['Frobnitz/2']]);
  });

  test('--server-software= (empty) sends no Server field', async () => {
    const { responses } = await talk(anonymous.port, [httpRequest('GET', '/fixed'), Buffer.from('BAD\r\n\r\n')]);
    assert.deepEqual(responses.map((r) => r.all('server')), [[], []]);
    assert.match(responses[0].header('date'), IMF_FIXDATE);
  });

  test('the app’s own Server and Date win, and are not doubled', async () => {
    for (const port of [server.port, anonymous.port]) {
      const { responses } = await talk(port, [httpRequest('GET', '/own-headers')]);
      assert.deepEqual(responses[0].all('server'), ['my-app/1.0']);
      assert.deepEqual(responses[0].all('date'), ['Mon, 01 Jan 2024 00:00:00 GMT']);
    }
  });
});

describe('framing', () => {
  test('the status line says HTTP/1.1, also to HTTP/1.0 clients', async () => {
    for (const version of ['1.1', '1.0']) {
      const c = await RawConnection.connect(server.port);
      c.write(httpRequest('GET', '/fixed', { version }));
      await c.responses(1);
      assert.match(c.data.latin1Slice(0, 20), /^HTTP\/1\.1 200 OK\r\n/);
      c.destroy();
    }
  });

  test('a known length goes out with Content-Length', async () => {
    const { responses } = await talk(server.port, [httpRequest('GET', '/fixed')]);
    assert.equal(responses[0].framing, 'length');
    assert.equal(responses[0].header('content-length'), '11');
    assert.equal(responses[0].text, 'hello world');
  });

  test('a stream of unknown length: chunked coding to HTTP/1.1, and the connection persists', async () => {
    const { responses } = await talk(server.port, [httpRequest('GET', '/stream?n=4&size=3&delay=5'), httpRequest('GET', '/fixed')]);
    assert.equal(responses[0].framing, 'chunked');
    assert.equal(responses[0].header('content-length'), undefined);
    assert.equal(responses[0].text, 'xxx'.repeat(4));
    assert.equal(responses[1].text, 'hello world');
  });

  test('the same stream to HTTP/1.0: no chunked coding, delimited by the close', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('GET', '/stream?n=4&size=3&delay=5', { version: '1.0' }));
    assert.equal(await c.waitClosed(), 'fin');
    const parsed = c.parse();
    c.destroy();
    assert.equal(parsed.error, null);
    assert.equal(parsed.responses[0].framing, 'close');
    assert.equal(parsed.responses[0].header('transfer-encoding'), undefined);
    assert.equal(parsed.responses[0].text, 'xxx'.repeat(4));
  });

  test('app-set Connection, Content-Length and Transfer-Encoding do not reach the wire', async () => {
    const { responses } = await talk(server.port, [httpRequest('GET', '/app-framing'), httpRequest('GET', '/fixed')]);
    const [r] = responses;
    assert.deepEqual(r.all('content-length'), ['3']);
    assert.deepEqual(r.all('transfer-encoding'), []);
    assert.deepEqual(r.all('connection'), []);
    assert.equal(r.text, 'abc');
    assert.equal(responses[1].text, 'hello world', 'the connection is still in step');
  });
});

describe('responses without a body', () => {
  test('HEAD: no body, the Content-Length a GET would have; the next response follows at once', async () => {
    const { responses } = await talk(
      server.port,
      [httpRequest('HEAD', '/fixed'), httpRequest('GET', '/fixed')],
      2,
      ['HEAD', 'GET'],
    );
    assert.equal(responses[0].header('content-length'), '11');
    assert.equal(responses[0].body.length, 0);
    assert.equal(responses[1].text, 'hello world');
  });

  test('HEAD of a stream: no body and no chunked coding', async () => {
    const { responses } = await talk(server.port, [httpRequest('HEAD', '/stream?delay=20'), httpRequest('GET', '/fixed')], 2, ['HEAD', 'GET']);
    assert.equal(responses[0].header('transfer-encoding'), undefined);
    assert.equal(responses[1].text, 'hello world');
  });

  for (const code of [204, 304]) {
    test(`${code}: no body and no Content-Length or Transfer-Encoding`, async () => {
      const c = await RawConnection.connect(server.port);
      c.write(Buffer.concat([httpRequest('GET', `/status?code=${code}`), httpRequest('GET', '/fixed')]));
      const parsed = await c.responses(2);
      c.destroy();
      assert.equal(parsed.error, null);
      assert.equal(parsed.responses[0].status, code);
      assert.equal(parsed.responses[0].header('content-length'), undefined);
      assert.equal(parsed.responses[0].header('transfer-encoding'), undefined);
      // The next status line follows the empty line at once.
      assert.equal(parsed.responses[1].start, parsed.responses[0].end);
      assert.equal(parsed.responses[1].text, 'hello world');
    });
  }
});

describe('1xx from context.informational()', () => {
  test('103 Early Hints with its fields, then the final response', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(Buffer.concat([httpRequest('GET', '/early-hints'), httpRequest('GET', '/fixed')]));
    const parsed = await c.responses(2);
    c.destroy();
    assert.equal(parsed.error, null);
    assert.deepEqual(
      parsed.all.map((r) => r.status),
      [103, 200, 200],
    );
    assert.equal(parsed.interim[0].header('link'), '</style.css>; rel=preload');
    assert.equal(parsed.interim[0].body.length, 0);
    assert.equal(parsed.responses[0].text, 'after hints');
  });

  test('not sent to an HTTP/1.0 client', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('GET', '/early-hints', { version: '1.0' }));
    assert.equal(await c.waitClosed(), 'fin');
    const parsed = c.parse();
    c.destroy();
    assert.equal(parsed.error, null);
    assert.deepEqual(
      parsed.all.map((r) => r.status),
      [200],
    );
  });
});
