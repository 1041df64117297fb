// Express and Koa apps served unchanged (SPEC §1.1: "every framework built on
// node:http works"): the examples in examples/, started as a user would, with
// two workers, answering through their routing, body parsing, middleware and
// error handling.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startServer } from '../helpers/server.mjs';

/** Serves examples/`name` with two workers for the tests of the enclosing describe(); `.url(path)` once started. */
function servedExample(name) {
  let server;
  before(async () => {
    server = await startServer(['--workers=2', fileURLToPath(new URL(`../../examples/${name}`, import.meta.url))]);
  });
  after(() => server?.stop());
  return { url: (path) => server.url(path) };
}

describe('Express (examples/express.mjs)', () => {
  const server = servedExample('express.mjs');

  test('routes, parameters and the query', async () => {
    const hello = await fetch(server.url('/'));
    assert.equal(hello.status, 200);
    assert.match(await hello.text(), /^Hello from Express on starlight \(pid \d+\): GET \/\n$/);
    assert.equal(hello.headers.get('server'), 'starlight/0.1.0');
    const user = await fetch(server.url('/users/42?tab=posts'));
    assert.deepEqual(await user.json(), { id: '42', query: { tab: 'posts' } });
  });

  test('a JSON body is parsed by express.json()', async () => {
    const response = await fetch(server.url('/echo'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: [1, 2] }) });
    assert.deepEqual(await response.json(), { received: { a: [1, 2] } });
  });

  test("Express's own error handler and 404 answer", async () => {
    const failed = await fetch(server.url('/fail'));
    assert.equal(failed.status, 500);
    assert.deepEqual(await failed.json(), { error: 'this route fails' });
    assert.equal((await fetch(server.url('/nowhere'))).status, 404);
  });
});

describe('Koa (examples/koa.mjs)', () => {
  const server = servedExample('koa.mjs');

  test('middleware around the handler, JSON bodies', async () => {
    const hello = await fetch(server.url('/'));
    assert.equal(await hello.text(), 'Hello from Koa on starlight: GET /\n');
    assert.match(hello.headers.get('x-served-by'), /^starlight pid \d+$/);
    const user = await fetch(server.url('/users/7?x=1'));
    assert.deepEqual(await user.json(), { id: '7', query: { x: '1' } });
  });

  test("ctx.throw() answers with Koa's status and message", async () => {
    const failed = await fetch(server.url('/fail'));
    assert.equal(failed.status, 418);
    assert.equal(await failed.text(), 'this route fails');
    assert.equal((await fetch(server.url('/nowhere'))).status, 404);
  });
});
