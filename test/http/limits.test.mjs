// Size limits on the request head (SPEC §1.3, §3): a request line over 8 KiB
// → 414; a head over --max-header-size, or more fields than --max-headers →
// 431; each refused with `Connection: close`, then closed, and never handed
// to the app. Just at a limit is fine. (--max-body-size: body.test.mjs.)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { httpRequest, parseResponses, rawRequest } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const APP = new URL('../fixtures/http-app.mjs', import.meta.url).pathname;
const unique = (prefix) => `${prefix}-${Math.random().toString(36).slice(2)}`;

let server;
let small;
before(async () => {
  [server, small] = await Promise.all([
    startServer(['--workers=0', APP]),
    startServer(['--workers=0', '--max-header-size=1024', '--max-headers=5', APP]),
  ]);
});
after(async () => {
  await Promise.all([server?.stop(), small?.stop()]);
});

/** Sends one request on its own connection (in two pieces, the second after a pause); resolves [status, x-app, connection] per response and how it closed. */
async function send(port, bytes) {
  const cut = Math.floor(bytes.length / 2);
  const r = await rawRequest(port, [bytes.subarray(0, cut), bytes.subarray(cut)], { pauseMs: 10 });
  const parsed = parseResponses(r.data, { closed: r.closed !== 'timeout' });
  assert.equal(parsed.error, null, parsed.error);
  return { closed: r.closed, answers: parsed.responses.map((x) => [x.status, x.header('x-app'), x.header('connection')]) };
}

async function seen(port, path) {
  const r = await rawRequest(port, [httpRequest('GET', `/seen?path=${path}`, { headers: { Connection: 'close' } })]);
  return parseResponses(r.data, { closed: true }).responses[0].text;
}

describe('request line', () => {
  test('a request line over 8 KiB → 414', async () => {
    const path = `/${unique('long')}`;
    const result = await send(server.port, httpRequest('GET', `${path}?${'q'.repeat(8200)}`));
    assert.deepEqual(result, { closed: 'fin', answers: [[414, undefined, 'close']] });
    assert.equal(await seen(server.port, path), '0');
  });

  test('a request line of almost 8 KiB is served', async () => {
    const target = `/echo?${'q'.repeat(8100)}`;
    const result = await send(server.port, httpRequest('GET', target, { headers: { Connection: 'close' } }));
    assert.deepEqual(result, { closed: 'fin', answers: [[200, '1', 'close']] });
  });
});

describe('--max-header-size=1024', () => {
  test('a head over the size → 431', async () => {
    const path = `/${unique('fat')}`;
    const result = await send(small.port, httpRequest('GET', path, { headers: { 'X-Big': 'b'.repeat(1100) } }));
    assert.deepEqual(result, { closed: 'fin', answers: [[431, undefined, 'close']] });
    assert.equal(await seen(small.port, path), '0');
  });

  test('a head of exactly 1024 bytes (the final CRLF included) is served; 1025 → 431', async () => {
    const head = (size) => {
      const base = httpRequest('GET', '/echo', { headers: { Connection: 'close', 'X-Big': '' } }).length;
      return httpRequest('GET', '/echo', { headers: { Connection: 'close', 'X-Big': 'b'.repeat(size - base) } });
    };
    assert.equal(head(1024).length, 1024);
    assert.deepEqual(await send(small.port, head(1024)), { closed: 'fin', answers: [[200, '1', 'close']] });
    assert.deepEqual(await send(small.port, head(1025)), { closed: 'fin', answers: [[431, undefined, 'close']] });
  });

  test('a request line over the header size (but under 8 KiB) → 431', async () => {
    const result = await send(small.port, httpRequest('GET', `/${'p'.repeat(2000)}`));
    assert.deepEqual(result, { closed: 'fin', answers: [[431, undefined, 'close']] });
  });
});

describe('--max-headers=5', () => {
  const fields = (n) => Array.from({ length: n - 1 }, (_, i) => [`X-F${i}`, 'v']);

  test('five fields are served', async () => {
    const result = await send(small.port, httpRequest('GET', '/echo', { headers: [['Host', 't'], ['Connection', 'close'], ...fields(4)] }));
    assert.deepEqual(result, { closed: 'fin', answers: [[200, '1', 'close']] });
  });

  test('six → 431', async () => {
    const path = `/${unique('many')}`;
    const result = await send(small.port, httpRequest('GET', path, { headers: [['Host', 't'], ...fields(6)] }));
    assert.deepEqual(result, { closed: 'fin', answers: [[431, undefined, 'close']] });
    assert.equal(await seen(small.port, path), '0');
  });
});
