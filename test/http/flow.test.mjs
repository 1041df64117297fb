// Flow control (SPEC §1.1, §3): a slow or idle client never holds up the
// process's other connections, and a streamed response to a client that does
// not read is not pulled from the app without bound; reading again resumes it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RawConnection, httpRequest } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const APP = new URL('../fixtures/http-app.mjs', import.meta.url).pathname;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let server;
before(async () => {
  server = await startServer(['--workers=0', APP]);
});
after(async () => {
  await server?.stop();
});

/** One request on a new connection; the parse once answered. */
async function ask(path) {
  const c = await RawConnection.connect(server.port);
  c.write(httpRequest('GET', path));
  const parsed = await c.responses(1, {}, 2000);
  c.destroy();
  return parsed;
}

describe('slow clients', () => {
  test('clients stalled in a head, a body and a response do not hold up another one', async () => {
    const stalled = await Promise.all([1, 2, 3].map(() => RawConnection.connect(server.port)));
    stalled[0].write('GET /fixed HTTP/1.1\r\nHost: te');
    stalled[1].write(httpRequest('POST', '/upload?name=slow', { headers: { 'Content-Length': '1000' }, body: 'x' }));
    stalled[2].pause();
    stalled[2].write(httpRequest('GET', '/endless?chunk=65536&total=268435456'));
    await sleep(200);
    // The default timeouts are 60 s and 300 s: an answer now means nothing waited on them.
    for (let i = 0; i < 3; i++) {
      const parsed = await ask(`/echo/${i}`);
      assert.equal(parsed.responses[0]?.text, `GET /echo/${i} 0`);
    }
    for (const c of stalled) {
      assert.equal(c.closed, null);
      c.destroy();
    }
  });
});

describe('backpressure on pipelined answers', () => {
  test('a client that pipelines but does not read: no more requests are taken than its buffers hold', async () => {
    // 1000 requests (the default --max-keepalive-reqs) for 60 KB answers each, written whole
    // (under the size a response is gathered to): 60 MB if all were answered at once.
    const count = 1000;
    const size = 60_000;
    const path = `/big-${Math.random().toString(36).slice(2)}`;
    const c = await RawConnection.connect(server.port);
    c.pause();
    c.write(Buffer.concat(Array.from({ length: count }, () => httpRequest('GET', `${path}?n=${size}`))));
    let before = -1;
    let handed = 0;
    for (let i = 0; i < 40 && handed !== before; i++) {
      await sleep(100);
      before = handed;
      handed = Number((await ask(`/seen?path=${path}`)).responses[0].text);
    }
    assert.equal(handed, before, 'the server stopped taking requests');
    // What a loopback socket pair can hold (a few MB) in answers, plus a few.
    assert.ok(handed < 400, `the app was handed ${handed} of ${count} requests for a client that reads nothing`);
    c.discardData();
    c.resume();
    assert.equal(await c.waitClosed(20_000), 'fin', 'all answered, the last saying close');
    assert.ok(c.length > count * size, `received ${c.length} bytes`);
    assert.equal(Number((await ask(`/seen?path=${path}`)).responses[0].text), count);
    c.destroy();
  });
});

describe('backpressure on a streamed response', () => {
  test('a client that does not read stops the pulling; reading again resumes it to the end', async () => {
    const chunk = 65536;
    const total = 128 * 1024 * 1024;
    const c = await RawConnection.connect(server.port);
    c.pause();
    c.write(httpRequest('GET', `/endless?chunk=${chunk}&total=${total}`));
    // Let the socket buffers fill, then watch the pull count stand still.
    let before = -1;
    let pulled = 0;
    for (let i = 0; i < 40 && pulled !== before; i++) {
      await sleep(100);
      before = pulled;
      pulled = Number((await ask('/pulled')).responses[0].text);
    }
    assert.equal(pulled, before, 'the pulling stopped');
    // What a loopback socket pair can hold (a few MB of kernel buffers) plus a little.
    assert.ok(pulled < 32 * 1024 * 1024, `pulled ${pulled} bytes for a client that reads nothing`);
    // Read it all now; count rather than keep the bytes.
    const head = c.length;
    c.discardData();
    c.resume();
    const done = await c.until((conn) => conn.length - head >= total, 20_000);
    assert.ok(done, `received ${c.length - head} of ${total}`);
    assert.equal(Number((await ask('/pulled')).responses[0].text), total);
    c.destroy();
  });
});
