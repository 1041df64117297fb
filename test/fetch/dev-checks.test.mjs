// -E development's checks of what a Fetch app returns (src/fetch/dev-checks.ts)
// and its error pages, through real requests to `starlight --workers=0`: each
// mistake is reported once, naming the request, with a hint in development and
// none in production; the stack is shown to the client in development only,
// for a Fetch app and a Node app alike.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { count, uid } from '../helpers/fetch-app.mjs';
import { startServer } from '../helpers/server.mjs';
import { waitFor } from '../helpers/wait.mjs';

const APP = fileURLToPath(new URL('../fixtures/dev-checks-app.mjs', import.meta.url));
const NODE_APP = fileURLToPath(new URL('../fixtures/node-app.mjs', import.meta.url));

const servers = {};
before(async () => {
  const start = (args, app = APP) => startServer(['--workers=0', ...args, app]);
  [servers.development, servers.platform, servers.production, servers.nodeDevelopment, servers.nodeProduction] = await Promise.all([
    start(['-E', 'development']),
    start(['-E', 'development', '--no-fast-fetch']),
    start(['-E', 'production']),
    start(['-E', 'development'], NODE_APP),
    start([], NODE_APP),
  ]);
});
after(() => Promise.all(Object.values(servers).map((server) => server?.stop())));

async function get(server, path) {
  const response = await fetch(server.url(path));
  return { status: response.status, text: await response.text() };
}

/** Waits until every stderr record written so far has arrived (the app writes a marker after them). */
async function settleLog(server) {
  const m = uid();
  await get(server, `/mark?m=${m}`);
  await waitFor(() => server.stderr.includes(`MARK ${m}\n`), { message: 'the log marker' });
}

/** The error log's records that name the request `GET path` (not the access log's lines), after the log has caught up. */
async function recordsFor(server, path) {
  await settleLog(server);
  return server.stderr.split('\n').filter((line) => line.includes(`GET ${path} HTTP/1.1`));
}

describe('-E development: what a Fetch app returns is checked', { timeout: 30_000 }, () => {
  for (const [route, hint] of [
    ['/no-return', /returned undefined, not a Response \(no return in fetch\(\)\?/],
    ['/async-no-return', /returned undefined, not a Response \(no return in fetch\(\)\?/],
    ['/handler', /returned function, not a Response \(a function: fetch\(\) returned a handler instead of calling it\?\)/],
    ['/shaped', /returned an object \(Object\), not a Response \(an object shaped like a response: build one with new Response/],
  ]) {
    test(`${route}: a 500, one error naming the request with a hint; none in production`, async () => {
      for (const mode of ['development', 'platform', 'production']) {
        const path = `${route}?${uid()}`;
        const { status, text } = await get(servers[mode], path);
        assert.equal(status, 500);
        const records = await recordsFor(servers[mode], path);
        assert.equal(records.length, 1, `${mode}:\n${servers[mode].stderr}`);
        assert.match(records[0], /error: GET \S+ HTTP\/1\.1: the app failed: TypeError: fetch\(\) returned/);
        if (mode === 'production') {
          assert.doesNotMatch(records[0], /\(no return|\(an object shaped|\(a function/);
          assert.equal(text, 'Internal Server Error');
        } else {
          assert.match(records[0], hint);
          assert.match(text, hint, 'the error page shows it too');
        }
      }
    });
  }

  for (const [route, body, meaning] of [
    ['/promise-body', '[object Promise]', /a Promise was given as the body \(a missing await\?\)/],
    ['/template-body', '[object Promise]', /a Promise was given as the body \(a missing await\?\)/],
    ['/object-body', '[object Object]', /an object was given as the body \(Response\.json\(value\)\?\)/],
  ]) {
    test(`${route}: sent as the app made it, one warning naming the request; none in production`, async () => {
      for (const mode of ['development', 'platform', 'production']) {
        const path = `${route}?${uid()}`;
        const response = await get(servers[mode], path);
        assert.deepEqual(response, { status: 200, text: body });
        const records = await recordsFor(servers[mode], path);
        if (mode === 'production') {
          assert.deepEqual(records, [], servers[mode].stderr);
        } else {
          assert.equal(records.length, 1, `${mode}:\n${servers[mode].stderr}`);
          assert.match(records[0], new RegExp(`warn: GET ${path.replace(/[?[\]]/g, '\\$&')} HTTP/1\\.1: the response body is "\\[object `));
          assert.match(records[0], meaning);
        }
      }
    });
  }

  test('a longer text that contains "[object Promise]" is no warning', async () => {
    const path = `/fine?${uid()}`;
    assert.equal((await get(servers.development, path)).status, 200);
    assert.deepEqual(await recordsFor(servers.development, path), []);
  });

  // What the platform refuses fails in the app: reported like any throw, in both modes.
  for (const [route, detail] of [
    ['/no-content-body', /TypeError: Response constructor: Invalid response status code 204/],
    ['/bad-cookie', /TypeError: Headers\.append: "a=1\\x0d\n\s+Injected: yes" is an invalid header value/],
  ]) {
    test(`${route}: the app's throw is reported once with the request, the stack shown in development only`, async () => {
      for (const mode of ['development', 'production']) {
        const path = `${route}?${uid()}`;
        const { status, text } = await get(servers[mode], path);
        assert.equal(status, 500);
        const records = await recordsFor(servers[mode], path);
        assert.equal(records.length, 1, `${mode}:\n${servers[mode].stderr}`);
        assert.match(records[0], /error: GET \S+ HTTP\/1\.1: the app failed: /);
        assert.match(servers[mode].stderr, detail);
        if (mode === 'development') assert.match(text, /dev-checks-app\.mjs:\d+/);
        else assert.equal(text, 'Internal Server Error');
      }
    });
  }
});

describe('error pages: the stack in development, never in production', { timeout: 30_000 }, () => {
  for (const [kind, development, production, route] of [
    ['a Fetch app', 'development', 'production', '/throw'],
    ['a Node app', 'nodeDevelopment', 'nodeProduction', '/throw'],
  ]) {
    test(kind, async () => {
      const shown = await get(servers[development], route);
      assert.equal(shown.status, 500);
      assert.match(shown.text, /^Internal Server Error\n\n\S*Error: .*\n {4}at .*(dev-checks-app|node-app)\.mjs:\d+/);
      const hidden = await get(servers[production], route);
      assert.equal(hidden.status, 500);
      assert.equal(hidden.text, 'Internal Server Error');
      assert.equal(count(hidden.text, ' at '), 0);
    });
  }
});
