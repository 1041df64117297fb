// Loading the app, through `starlight --workers=0` as a child process: module
// kinds (.js .mjs .cjs, TypeScript), the default file lookup, the app's own
// port/hostname, -e, --import, and every way a start is refused.
// App files are written to fresh temporary directories.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { AutoRouter } from 'itty-router';

import { classifyExport } from '../../dist/app/load.js';
import { startServer } from '../helpers/server.mjs';
import { freePort } from '../helpers/ports.mjs';

// ---------------------------------------------------------------------------
// Which Node runs what

function nodeVersion(node) {
  try {
    const version = node === process.execPath ? process.version : execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    return version.slice(1).split('.').map(Number);
  } catch {
    return null;
  }
}
const atLeast = (version, major, minor) => version !== null && (version[0] > major || (version[0] === major && version[1] >= minor));

/** Node 24 binaries that may be around: the dev box's, and the one .ci/run installs. */
const NODE24 = ['/tmp/n24/node_modules/.bin/node', fileURLToPath(new URL('../../.node24/node_modules/.bin/node', import.meta.url))];
/** A Node that runs TypeScript by itself: this one from 22.18, else a Node 24 found here, else none (those tests skip). */
const TS_NODE = atLeast(nodeVersion(process.execPath), 22, 18)
  ? process.execPath
  : (NODE24.find((node) => existsSync(node) && atLeast(nodeVersion(node), 22, 18)) ?? null);
/** A Node that cannot run TypeScript at all (before 22.6): this one, if it is. */
const OLD_NODE = atLeast(nodeVersion(process.execPath), 22, 6) ? null : process.execPath;

// ---------------------------------------------------------------------------
// Temporary app directories and child processes

const dirs = [];
/** A fresh directory holding `files` ({ relative path: content }). */
function appDir(files = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'starlight-app-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const servers = new Set();
after(async () => {
  await Promise.all([...servers].map((server) => server.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `starlight --workers=0 ARGS` (our environment without STARLIGHT_* and PORT, plus `env`)
 * until it either prints its banner (then `serving`, host, port, get(path), stop()) or exits
 * (then not `serving`; code: its exit code or signal; stderr, all of it).
 */
async function launch(args, { cwd, env = {}, node = process.execPath } = {}) {
  const server = await startServer(['--workers=0', ...args], { cwd, env, node, listen: false, wait: 'banner-or-exit' });
  servers.add(server);
  server.exited.then(() => servers.delete(server));
  return Object.assign(server, {
    code: server.serving ? undefined : (server.exit.code ?? server.exit.signal),
    async get(path = '/') {
      const response = await fetch(server.url(path));
      return response.text();
    },
  });
}

/** Starts, checks the app answers `expected` (on 127.0.0.1), stops. */
async function serves(args, expected, opts) {
  const started = await launch(['--host=127.0.0.1', '--port=0', ...args], opts);
  assert.ok(started.serving, `did not start: ${started.stderr}`);
  try {
    assert.equal(await started.get('/'), expected);
  } finally {
    await started.stop();
  }
}

/** Expects the start to fail with exit `code` and stderr matching each of `patterns`. */
async function refused(args, patterns, { code = 1, ...opts } = {}) {
  const result = await launch(['--host=127.0.0.1', '--port=0', ...args], opts);
  if (result.serving) await result.stop();
  assert.equal(result.serving, false, `it started instead: ${result.stderr}`);
  assert.equal(result.code, code, result.stderr);
  for (const pattern of [].concat(patterns)) {
    if (pattern instanceof RegExp) assert.match(result.stderr, pattern);
    else assert.ok(result.stderr.includes(pattern), `stderr lacks ${JSON.stringify(pattern)}:\n${result.stderr}`);
  }
  return result.stderr;
}

const fetchApp = (text) => `export default { fetch: () => new Response(${JSON.stringify(text)}) };\n`;
const cjsApp = (text) => `module.exports = { fetch: () => new Response(${JSON.stringify(text)}) };\n`;

// ---------------------------------------------------------------------------
// Groups run side by side: most of the time is spent starting Node processes.
describe('loading the app', { concurrency: 3 }, () => {
  describe('module kinds', { timeout: 30_000 }, () => {
    test('.mjs: export default { fetch }', async () => {
      const dir = appDir({ 'app.mjs': fetchApp('from mjs') });
      await serves([join(dir, 'app.mjs')], 'from mjs');
    });

    test('.js as an ES module ("type": "module"), given relative to the working directory', async () => {
      const dir = appDir({ 'package.json': '{"type":"module"}', 'src/server.js': fetchApp('from js esm') });
      await serves(['src/server.js'], 'from js esm', { cwd: dir });
    });

    test('.js as CommonJS ("type": "commonjs"): module.exports = { fetch }', async () => {
      const dir = appDir({ 'package.json': '{"type":"commonjs"}', 'app.js': cjsApp('from js cjs') });
      await serves([join(dir, 'app.js')], 'from js cjs');
    });

    test('.cjs: module.exports = { fetch }', async () => {
      const dir = appDir({ 'app.cjs': cjsApp('from cjs') });
      await serves([join(dir, 'app.cjs')], 'from cjs');
    });

    test('.cjs compiled from `export default` (exports.default, __esModule)', async () => {
      const dir = appDir({
        'app.cjs':
          '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\n' +
          'exports.default = { fetch: () => new Response("from tsc cjs") };\n',
      });
      await serves([join(dir, 'app.cjs')], 'from tsc cjs');
    });

    test('a Node app: a (req, res) function, as ES module or CommonJS', async () => {
      const dir = appDir({
        'node.mjs': 'export default function (req, res) { res.end(`esm ${req.method} ${req.url}`); }\n',
        'node.cjs': 'module.exports = (req, res) => res.end("cjs " + (req.constructor.name) + " " + res.constructor.name);\n',
      });
      await serves([join(dir, 'node.mjs')], 'esm GET /');
      await serves([join(dir, 'node.cjs')], 'cjs IncomingMessage ServerResponse');
    });

    test("a Node app: a Koa-style object whose callback() gives the listener, called as a method; its port is used", async () => {
      const port = await freePort();
      const dir = appDir({
        'koa.mjs':
          `export default { port: ${port}, name: 'koa-like', callback() { return (req, res) => res.end(this.name); } };\n`,
      });
      const started = await launch(['--host=127.0.0.1', join(dir, 'koa.mjs')]);
      assert.ok(started.serving, started.stderr);
      try {
        assert.equal(started.port, port);
        assert.equal(await started.get('/'), 'koa-like');
      } finally {
        await started.stop();
      }
    });

    test('a class instance with a fetch() method: called as a method, with the context', async () => {
      const dir = appDir({
        'app.mjs':
          'class App { constructor() { this.name = "instance"; }\n' +
          '  fetch(request, context) { return new Response(`${this.name} ${request instanceof Request} ${typeof context.waitUntil}`); } }\n' +
          'export default new App();\n',
      });
      await serves([join(dir, 'app.mjs')], 'instance true function');
    });
  });

  describe('TypeScript', { timeout: 30_000 }, () => {
    const typed = (text) =>
      `interface Greeting { text: string }\nconst greeting: Greeting = { text: ${JSON.stringify(text)} };\n` +
      `export default { fetch: (request: Request): Response => new Response(greeting.text) } satisfies { fetch(r: Request): Response };\n`;

    test('.ts, .mts, .cts run with no build step where Node strips types', { skip: TS_NODE === null && 'no Node ≥ 22.18 here' }, async () => {
      const dir = appDir({
        'app.ts': typed('from ts'),
        'app.mts': typed('from mts'),
        'app.cts': 'type Handler = (request: Request) => Response;\nconst fetch: Handler = () => new Response("from cts");\nmodule.exports = { fetch };\n',
      });
      await serves([join(dir, 'app.ts')], 'from ts', { node: TS_NODE });
      await serves([join(dir, 'app.mts')], 'from mts', { node: TS_NODE });
      await serves([join(dir, 'app.cts')], 'from cts', { node: TS_NODE });
    });

    test('.ts on a Node without type stripping: exit 1, naming both ways out', { skip: OLD_NODE === null && `Node ${process.version} strips types` }, async () => {
      const dir = appDir({ 'app.ts': typed('never'), 'app.mts': typed('never'), 'app.cts': typed('never') });
      for (const name of ['app.ts', 'app.mts', 'app.cts']) {
        await refused([join(dir, name)], [join(dir, name), 'TypeScript', /Node 22\.18 or later/, /--import tsx/], { node: OLD_NODE });
      }
    });

    test('.ts on a Node without type stripping, with --import of a TypeScript loader: it runs', { skip: OLD_NODE === null && `Node ${process.version} strips types` }, async () => {
      // A stand-in for tsx: .ts files are loaded as ES modules (this app has no types to strip).
      const hooks = 'export async function load(url, context, next) {\n' +
        '  if (url.endsWith(".ts")) return { ...(await next(url, { ...context, format: "module" })), format: "module" };\n' +
        '  return next(url, context);\n}\n';
      const dir = appDir({
        'ts-loader.mjs': `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});\n`,
        'app.ts': fetchApp('loaded by a loader'),
      });
      await serves(['--import', './ts-loader.mjs', 'app.ts'], 'loaded by a loader', { cwd: dir, node: OLD_NODE });
    });
  });

  describe('default app file', { timeout: 30_000 }, () => {
    test('the first of app.ts, app.mts, app.js, app.mjs, app.cjs in the working directory', async () => {
      const order = ['app.ts', 'app.mts', 'app.js', 'app.mjs', 'app.cjs'];
      const dir = appDir({
        'package.json': '{"type":"module"}',
        'app.ts': fetchApp('app.ts'),
        'app.mts': fetchApp('app.mts'),
        'app.js': fetchApp('app.js'),
        'app.mjs': fetchApp('app.mjs'),
        'app.cjs': cjsApp('app.cjs'),
      });
      const node = TS_NODE ?? process.execPath;
      for (const name of order) {
        if (name.endsWith('ts') && node !== TS_NODE) {
          await refused([], [join(dir, name), /Node 22\.18 or later/], { cwd: dir, node });
        } else {
          await serves([], name, { cwd: dir, node });
        }
        unlinkSync(join(dir, name));
      }
      await refused([], ['no APP given', order.join(', '), dir], { cwd: dir, node });
    });
  });

  describe("the app's own port and hostname", { timeout: 30_000 }, () => {
    const portApp = (port, hostname) =>
      `export default { port: ${JSON.stringify(port)}, hostname: ${JSON.stringify(hostname)}, fetch: () => new Response("ported") };\n`;

    test('used when neither the command line nor the environment sets them', async () => {
      const port = await freePort();
      const dir = appDir({ 'app.mjs': portApp(port, '127.0.0.1') });
      const started = await launch([join(dir, 'app.mjs')]);
      assert.ok(started.serving, started.stderr);
      try {
        assert.equal(started.host, '127.0.0.1');
        assert.equal(started.port, port);
        assert.equal(await started.get('/'), 'ported');
      } finally {
        await started.stop();
      }
    });

    test('a port given as a string of digits works too', async () => {
      const port = await freePort();
      const dir = appDir({ 'app.mjs': portApp(String(port), '127.0.0.1') });
      const started = await launch([join(dir, 'app.mjs')]);
      assert.ok(started.serving, started.stderr);
      await started.stop();
      assert.equal(started.port, port);
    });

    test('--port, STARLIGHT_PORT and PORT win over the exported port; --host and STARLIGHT_HOST over the hostname', async () => {
      const exported = await freePort();
      const dir = appDir({ 'app.mjs': portApp(exported, '127.0.0.2') });
      const app = join(dir, 'app.mjs');
      for (const [args, env] of [
        [['--host=127.0.0.1', '--port=PORT'], {}],
        [['--host=127.0.0.1'], { STARLIGHT_PORT: 'PORT' }],
        [['--host=127.0.0.1'], { PORT: 'PORT' }],
        [['--port=PORT'], { STARLIGHT_HOST: '127.0.0.1' }],
      ]) {
        const port = await freePort();
        const fill = (text) => text.replace('PORT', String(port));
        const started = await launch([...args.map(fill), app], { env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fill(v)])) });
        assert.ok(started.serving, `${args} ${JSON.stringify(env)}: ${started.stderr}`);
        await started.stop();
        assert.deepEqual([started.host, started.port], ['127.0.0.1', port], `${args} ${JSON.stringify(env)}`);
      }
    });

    test('an exported port that is not a port: the start stops, naming the file', async () => {
      const dir = appDir({ 'app.mjs': portApp('eighty', '127.0.0.1') });
      const result = await launch([join(dir, 'app.mjs')]);
      if (result.serving) await result.stop();
      assert.equal(result.serving, false);
      assert.notEqual(result.code, 0);
      assert.ok(result.stderr.includes(join(dir, 'app.mjs')), result.stderr);
      assert.match(result.stderr, /exported port: expected .*, got .*eighty/);
    });

    test('named exports `port` and `hostname` are used too', async () => {
      const port = await freePort();
      const dir = appDir({
        'app.mjs': `export const port = ${port};\nexport const hostname = '127.0.0.1';\nexport default { fetch: () => new Response('named') };\n`,
      });
      const started = await launch([join(dir, 'app.mjs')]);
      assert.ok(started.serving, started.stderr);
      try {
        assert.deepEqual([started.host, started.port], ['127.0.0.1', port]);
        assert.equal(await started.get('/'), 'named');
      } finally {
        await started.stop();
      }
    });

    test("a value that is neither a number nor a string is ignored: the named export is used (a router's function)", async () => {
      const port = await freePort();
      const dir = appDir({
        'app.mjs':
          `export const port = ${port};\nexport const hostname = '127.0.0.1';\n` +
          "export default { port() {}, hostname: { name: 'x' }, fetch: () => new Response('ignored') };\n",
      });
      const started = await launch([join(dir, 'app.mjs')]);
      assert.ok(started.serving, started.stderr);
      try {
        assert.deepEqual([started.host, started.port], ['127.0.0.1', port]);
      } finally {
        await started.stop();
      }
    });
  });

  describe("itty-router's documented export, `export default AutoRouter()` (examples/itty-router.mjs)", { timeout: 30_000 }, () => {
    test('serves with two workers, its port and hostname (functions) ignored', async () => {
      const example = fileURLToPath(new URL('../../examples/itty-router.mjs', import.meta.url));
      // no --host/--port: the app's own port and hostname are read (and must not stop the start)
      const started = await launch(['--workers=2', '--listen=127.0.0.1:0', example]);
      assert.ok(started.serving, `did not start: ${started.stderr}`);
      try {
        const base = `http://127.0.0.1:${started.port}`;
        for (let i = 0; i < 4; i++) {
          const hello = await fetch(`${base}/`);
          assert.equal(hello.status, 200);
          assert.equal(await hello.text(), 'hello from itty-router');
        }
        assert.deepEqual(await (await fetch(`${base}/hello/starlight`)).json(), { hello: 'starlight' });
        const echo = await fetch(`${base}/echo`, { method: 'POST', body: JSON.stringify({ ping: 1 }) });
        assert.deepEqual(await echo.json(), { received: { ping: 1 } });
        assert.equal((await fetch(`${base}/nowhere`)).status, 404);
      } finally {
        await started.stop();
      }
    });
  });

  describe('classifyExport: the kind of app, and its port and hostname', () => {
    const fetch = () => new Response('');

    test("the default export object's own values first, then the named exports", () => {
      const app = classifyExport('app.mjs', { default: { fetch, port: 1, hostname: 'a' }, port: 2, hostname: 'b' });
      assert.deepEqual([app.kind, app.port, app.hostname], ['fetch', 1, 'a']);
      const named = classifyExport('app.mjs', { default: { fetch }, port: '2', hostname: 'b' });
      assert.deepEqual([named.port, named.hostname], ['2', 'b']);
      const listener = classifyExport('app.mjs', { default: (req, res) => res.end(), port: 3 });
      assert.deepEqual([listener.kind, listener.port, listener.hostname], ['node', 3, undefined]);
    });

    test('only numbers and strings are taken; anything else is no setting', () => {
      for (const value of [() => {}, {}, [], null, true, 10n, Symbol('port')]) {
        const app = classifyExport('app.mjs', { default: { fetch, port: value, hostname: value } });
        assert.deepEqual([app.kind, app.port, app.hostname], ['fetch', undefined, undefined], String(value?.toString?.()));
      }
      // (an invalid number or string is kept, for the options to refuse it by name)
      assert.equal(classifyExport('app.mjs', { default: { fetch, port: 'eighty' } }).port, 'eighty');
    });

    test("itty-router's AutoRouter (every property read gives a function) is a Fetch app with no port", () => {
      const router = AutoRouter();
      assert.equal(typeof router.port, 'function');
      const app = classifyExport('app.mjs', { default: router });
      assert.deepEqual([app.kind, app.app, app.port, app.hostname], ['fetch', router, undefined, undefined]);
    });
  });

  describe('-e CODE', { timeout: 30_000 }, () => {
    test('the app module inline; its temporary file is gone once it is loaded', async () => {
      const dir = appDir();
      const started = await launch(['--host=127.0.0.1', '--port=0', '-e', fetchApp('inline')], { cwd: dir });
      assert.ok(started.serving, started.stderr);
      try {
        assert.equal(await started.get('/'), 'inline');
        assert.deepEqual(readdirSync(dir), []);
      } finally {
        await started.stop();
      }
    });

    test('imports resolve from the working directory', async () => {
      const dir = appDir({ 'lib/word.mjs': 'export const word = "relative import";\n' });
      const code = 'import { word } from "./lib/word.mjs";\nexport default { fetch: () => new Response(word) };\n';
      await serves(['-e', code], 'relative import', { cwd: dir });
    });

    test('a wrong export or a syntax error: exit 1, named "-e", no file left behind', async () => {
      const dir = appDir();
      await refused(['-e', 'export default 42;'], ['-e: found a default export of type number'], { cwd: dir });
      const stderr = await refused(['-e', 'export default { fetch( };'], ['-e: the app failed to load', 'SyntaxError'], { cwd: dir });
      assert.match(stderr, /\.mjs:1\n/, 'the syntax error says where it is');
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  describe('--import', { timeout: 30_000 }, () => {
    test('preloads run before the app, in order; relative to the working directory or from its node_modules', async () => {
      const dir = appDir({
        'first.mjs': 'globalThis.preloaded = ["first"];\n',
        'node_modules/second-preload/package.json': '{"name":"second-preload","type":"module","exports":"./index.js"}',
        'node_modules/second-preload/index.js': 'globalThis.preloaded.push("second");\n',
        'app.mjs': 'const seen = globalThis.preloaded?.join(",") ?? "nothing";\nexport default { fetch: () => new Response(seen) };\n',
      });
      await serves(['--import', './first.mjs', '--import=second-preload', 'app.mjs'], 'first,second', { cwd: dir });
    });

    test('packages are resolved as ES modules: an import-only package, the import entry of a dual one, node: builtins', async () => {
      const dir = appDir({
        'node_modules/esm-only/package.json': '{"name":"esm-only","exports":{".":{"import":"./index.mjs"}}}',
        'node_modules/esm-only/index.mjs': '(globalThis.preloaded ??= []).push("esm-only");\n',
        'node_modules/dual/package.json': '{"name":"dual","exports":{".":{"import":"./index.mjs","require":"./index.cjs"}}}',
        'node_modules/dual/index.mjs': '(globalThis.preloaded ??= []).push("dual as ESM");\n',
        'node_modules/dual/index.cjs': '(globalThis.preloaded ??= []).push("dual as CommonJS");\n',
        'app.mjs': 'const seen = globalThis.preloaded?.join(",") ?? "nothing";\nexport default { fetch: () => new Response(seen) };\n',
      });
      await serves(['--import=esm-only', '--import=dual', '--import=node:os', 'app.mjs'], 'esm-only,dual as ESM', { cwd: dir });
      assert.deepEqual(readdirSync(dir).sort(), ['app.mjs', 'node_modules'], 'no temporary file left behind');
    });

    test('a preload that fails or is missing: exit 1, naming it', async () => {
      const dir = appDir({ 'bad.mjs': 'throw new Error("preload exploded");\n', 'app.mjs': fetchApp('never') });
      await refused(['--import', './bad.mjs', 'app.mjs'], ['--import ./bad.mjs failed', 'preload exploded', join(dir, 'bad.mjs')], { cwd: dir });
      await refused(['--import', 'no-such-preload-package', 'app.mjs'], ['--import no-such-preload-package failed'], { cwd: dir });
    });
  });

  describe('refused at start', { timeout: 30_000, concurrency: 4 }, () => {
    const cases = {
      'a missing file': [{}, 'missing.mjs', ['missing.mjs: no such file']],
      'a file that is not a module': [{ 'app.txt': 'hello' }, 'app.txt', ['app.txt: an app is a .js, .mjs, .cjs, .ts, .mts or .cts module']],
      'a module that throws on import (its stack shown)': [
        { 'boom.mjs': 'const x = 1;\nthrow new Error("exploded on import");\n' },
        'boom.mjs',
        ['boom.mjs: the app failed to load', 'Error: exploded on import', /boom\.mjs:2:7/],
      ],
      'a module with a syntax error (where it is shown)': [
        { 'syntax.mjs': 'const ok = 1;\nexport default { fetch( };\n' },
        'syntax.mjs',
        ['syntax.mjs: the app failed to load', 'SyntaxError', /syntax\.mjs:2\nexport default \{ fetch\( \};\n\s+\^/],
      ],
      'a module whose import is missing': [
        { 'deps.mjs': 'import "./not-there.mjs";\nexport default {};\n' },
        'deps.mjs',
        ['deps.mjs: the app failed to load', 'not-there.mjs'],
      ],
      'no default export (a named fetch)': [
        { 'named.mjs': 'export function fetch() { return new Response("x"); }\n' },
        'named.mjs',
        ['named.mjs: found no default export', 'export default { fetch'],
      ],
      'an object without fetch()': [
        { 'object.mjs': 'export default { port: 1234, handler() {} };\n' },
        'object.mjs',
        ['object.mjs: found a default export object with properties port, handler but no fetch() method'],
      ],
      'a number': [{ 'number.mjs': 'export default 42;\n' }, 'number.mjs', ['number.mjs: found a default export of type number']],
      'null': [{ 'null.cjs': 'module.exports = null;\n' }, 'null.cjs', ['null.cjs: found a default export of null']],
      "a Koa-style object whose callback() returns no function": [
        { 'koa.cjs': 'module.exports = { callback() { return 42; } };\n' },
        'koa.cjs',
        ["koa.cjs: its default export's callback() returned number, not a (req, res) function"],
      ],
    };
    for (const [what, [files, app, patterns]] of Object.entries(cases)) {
      test(`${what}: exit 1 with a message naming the file`, async () => {
        const dir = appDir(files);
        const stderr = await refused([app], patterns, { cwd: dir });
        assert.ok(stderr.includes(join(dir, app)) || what === 'a file that is not a module', `the absolute path is named:\n${stderr}`);
        assert.match(stderr, /^starlight: /);
      });
    }
  });
});
