// The lazy ServerRequest (--fast-fetch, the default) against the platform's
// Request (--no-fast-fetch): for the same requests, every property the app can
// read is the same.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from '../helpers/server.mjs';

const APP = fileURLToPath(new URL('../fixtures/request-dump-app.mjs', import.meta.url));
let fast;
let platform;

before(async () => {
  [fast, platform] = await Promise.all([startServer(['--workers=0', APP]), startServer(['--workers=0', '--no-fast-fetch', APP])]);
});
after(async () => {
  await Promise.all([fast?.stop(), platform?.stop()]);
});

const REQUESTS = [
  ['a GET with a query and repeated headers', '/path?q=1&r=%20', { headers: [['x-a', '1'], ['X-A', '2'], ['accept', 'text/plain']] }],
  ['a POST with a body', '/post', { method: 'POST', body: 'héllo body', headers: { 'content-type': 'text/plain' } }],
  ['a PUT without a body', '/put', { method: 'PUT' }],
  ['a DELETE with a body', '/del', { method: 'DELETE', body: '{"x":1}' }],
  ['a HEAD-like OPTIONS', '/opt', { method: 'OPTIONS' }],
];

for (const [name, path, init] of REQUESTS) {
  test(`${name}: the same Request either way`, async () => {
    const [a, b] = await Promise.all(
      [fast, platform].map(async (server) => {
        const response = await fetch(server.url(path), init);
        assert.equal(response.status, 200);
        const dump = await response.json();
        // The URL names the server's own port.
        dump.url = dump.url.replace(`:${server.port}/`, ':PORT/');
        dump.headers = dump.headers.filter(([key]) => key !== 'host');
        return dump;
      }),
    );
    assert.deepEqual(a, b);
    assert.equal(a.isRequest, true);
    assert.equal(a.constructorIsRequest, true);
    assert.equal(a.signalAborted, false);
  });
}
