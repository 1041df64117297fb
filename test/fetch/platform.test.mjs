// The platform's Request/Response/Headers (undici) are loaded only when needed
// (src/fetch/light/platform.ts): light objects serve without them, and a late load
// links the light classes so that `instanceof` holds both ways. Each check
// runs in a fresh process, since a load cannot be undone. On runtimes whose
// globals are not lazy getters (Node 24) the platform is loaded at once: the
// "not loaded" checks are skipped there, the linking ones still run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from '../helpers/server.mjs';

const DIST = new URL('../../dist/fetch/light/', import.meta.url).href;
const PLATFORM_APP = fileURLToPath(new URL('../fixtures/platform-app.mjs', import.meta.url));

/** Runs `body` (an async function body that returns a value) in a fresh Node with the light classes installed; its JSON result. */
function inFreshNode(body) {
  const script = `
    const loaded = () => process.moduleLoadList.some((name) => name.includes('undici'));
    const { FastResponse, installFastClasses } = await import(${JSON.stringify(`${DIST}fast-response.js`)});
    const { FastHeaders } = await import(${JSON.stringify(`${DIST}fast-headers.js`)});
    installFastClasses();
    const result = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify(result));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

const LAZY_RUNTIME = execFileSync(process.execPath, ['-p', "typeof Object.getOwnPropertyDescriptor(globalThis, 'Response').get"], { encoding: 'utf8' }).trim() === 'function';

describe('the platform classes, loaded on first need', () => {
  test('light Responses and Headers are made, read, awaited and checked without loading the platform', { skip: !LAZY_RUNTIME }, () => {
    const seen = inFreshNode(`
      const response = new Response('hi', { status: 201, headers: { 'x-a': '1' } });
      const headers = new Headers([['b', '2']]);
      headers.append('c', '3');
      const awaited = await (async () => response)();
      return {
        checks: [response instanceof Response, headers instanceof Headers, awaited === response, 'then' in response],
        status: response.status,
        fields: [...response.headers],
        json: Response.json({ a: 1 }).status,
        loaded: loaded(),
      };`);
    assert.deepEqual(seen.checks, [true, true, true, false]);
    assert.equal(seen.status, 201);
    assert.deepEqual(seen.fields, [['content-type', 'text/plain;charset=UTF-8'], ['x-a', '1']]);
    assert.equal(seen.json, 200);
    assert.equal(seen.loaded, false);
  });

  test('a member the light class lacks loads the platform and answers as the platform does', () => {
    const seen = inFreshNode(`
      const response = new Response('hi');
      const before = loaded();
      return { before, tag: Object.prototype.toString.call(response), headersTag: String(new Headers()), after: loaded() };`);
    if (LAZY_RUNTIME) assert.equal(seen.before, false);
    assert.equal(seen.tag, '[object Response]');
    assert.equal(seen.headersTag, '[object Headers]');
    assert.equal(seen.after, true);
  });

  test('objects made before a late load (through fetch) pass for the platform classes, and the reverse', () => {
    const seen = inFreshNode(`
      const light = new Response('x');
      const headers = new Headers();
      const native = await fetch('data:,hello');
      return {
        nativeIsLight: native instanceof Response,
        lightIsNative: light instanceof native.constructor,
        headersIsNative: headers instanceof native.headers.constructor,
        nativeHeadersIsLight: native.headers instanceof Headers,
        globalsKept: Response === FastResponse && Headers === FastHeaders,
        requestIsPlatform: new Request('http://h/') instanceof Request && Request !== FastResponse,
        text: await native.text(),
        lightText: await light.text(),
      };`);
    assert.deepEqual(seen, {
      nativeIsLight: true,
      lightIsNative: true,
      headersIsNative: true,
      nativeHeadersIsLight: true,
      globalsKept: true,
      requestIsPlatform: true,
      text: 'hello',
      lightText: 'x',
    });
  });

  test('reading the global Request loads and links the platform', () => {
    const seen = inFreshNode(`
      const light = new Response('x');
      const before = loaded();
      const request = new Request('http://h/', { headers: new Headers({ a: '1' }) });
      return { before, after: loaded(), header: request.headers.get('a'), linked: Object.getPrototypeOf(Response) !== Function.prototype, error: Response.error().type };`);
    if (LAZY_RUNTIME) assert.equal(seen.before, false);
    assert.deepEqual({ ...seen, before: undefined }, { before: undefined, after: true, header: '1', linked: true, error: 'error' });
  });
});

describe('a worker serving through the light classes', { timeout: 20_000 }, () => {
  let server;
  before(async () => {
    server = await startServer(['--workers=0', PLATFORM_APP]);
  });
  after(() => server?.stop());

  test('answers requests without loading the platform, then links it when the app fetches', async () => {
    const first = await fetch(server.url('/'), { method: 'POST', body: 'payload' });
    assert.equal(first.headers.get('x-seen'), '1');
    const light = await first.json();
    assert.deepEqual({ ...light, loaded: undefined }, { loaded: undefined, host: `127.0.0.1:${server.port}`, body: 'payload' });
    if (LAZY_RUNTIME) assert.equal(light.loaded, false);
    const late = await (await fetch(server.url('/late'))).json();
    assert.deepEqual(late, { loaded: true, nativeIsResponse: true, requestIsRequest: true, constructorIsRequest: true, text: 'late' });
  });
});
