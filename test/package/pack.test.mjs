// The published package, as a user gets it: `npm pack` of this checkout (its dist/ as built by
// `npm test`), installed from the tarball into a fresh project that has none of our dev
// dependencies, where the `starlight` command serves an app, `import { serve } from
// 'starlight-server'` and `require('starlight-server')` work, and the types check under tsc.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { waitFor } from '../helpers/process.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NAME = 'starlight-server';
/** The `node` of this test first on PATH: the command's `#!/usr/bin/env node` finds it. */
const ENV = Object.fromEntries(
  Object.entries({ ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` }).filter(
    ([name]) => !name.startsWith('STARLIGHT_') && name !== 'PORT' && !name.startsWith('npm_'),
  ),
);

/** Runs a command to its end (within 60 s); rejects with its output if it fails. */
function run(file, args, cwd) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env: ENV, timeout: 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const npm = (args, cwd) => run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, cwd);

describe(`the ${NAME} package, installed from its tarball into a fresh project`, { timeout: 120_000 }, () => {
  const temp = mkdtempSync(join(tmpdir(), 'starlight-pack-'));
  const project = join(temp, 'project');
  let packed;

  before(async () => {
    const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', temp], ROOT);
    [packed] = JSON.parse(stdout);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-app', private: true, version: '1.0.0' }));
    // A fresh cache, offline: the package needs nothing from a registry (it has no dependencies).
    await npm(['install', '--no-audit', '--no-fund', '--offline', '--cache', join(temp, 'npm-cache'), join(temp, packed.filename)], project);
  });
  after(() => rmSync(temp, { recursive: true, force: true }));

  test('the tarball holds the command, the built code and its types, the README, and nothing else', () => {
    assert.equal(packed.name, NAME);
    const files = packed.files.map((file) => file.path);
    for (const needed of ['package.json', 'README.md', 'LICENSE', 'bin/starlight.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/worker/main.js']) {
      assert.ok(files.includes(needed), `${needed} is missing`);
    }
    const extra = files.filter((path) => !/^(?:package\.json|README\.md|LICENSE|bin\/starlight\.js|dist\/.+\.(?:js|d\.ts))$/.test(path));
    assert.deepEqual(extra, [], 'tests, sources, source maps and the like are not shipped');
  });

  test('the project gets the package alone (no dev dependency) and no install-time script', async () => {
    assert.deepEqual(readdirSync(join(project, 'node_modules')).filter((name) => !name.startsWith('.')).sort(), [NAME]);
    const manifest = JSON.parse((await run(process.execPath, ['-p', `JSON.stringify(require('${NAME}/package.json'))`], project)).stdout);
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}), []);
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(manifest.scripts?.[script], undefined, script);
    assert.deepEqual(manifest.bin, { starlight: 'bin/starlight.js' });
  });

  test('node_modules/.bin/starlight serves an app', async () => {
    writeFileSync(join(project, 'app.mjs'), "export default { fetch: (request) => new Response(`from the package: ${new URL(request.url).pathname}`) };\n");
    const child = spawn(join(project, 'node_modules', '.bin', 'starlight'), ['--workers=1', '--host=127.0.0.1', '--port=0', 'app.mjs'], {
      cwd: project,
      env: ENV,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (data) => (stderr += data));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const port = await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`starlight exited ${child.exitCode}:\n${stderr}`);
        return /Accepting connections at http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1];
      }, { timeoutMs: 15_000, message: () => `the banner; stderr:\n${stderr}` });
      const response = await fetch(`http://127.0.0.1:${port}/hello`);
      assert.equal(await response.text(), 'from the package: /hello');
      assert.match(response.headers.get('server'), /^starlight\/\d+\.\d+\.\d+/);
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  });

  /** A script that serves one request through serve() in its own process, and prints the answer. */
  const serveOnce = (load) =>
    `${load}\n` +
    "const server = serve({ fetch: (request) => new Response('served by ' + new URL(request.url).pathname), workers: 0, host: '127.0.0.1', port: 0, quiet: true });\n" +
    'server.ready.then(() => fetch(server.url + "x")).then((response) => response.text()).then((text) => { console.log(text); return server.close(); });\n';

  test(`import { serve } from '${NAME}' (ESM)`, async () => {
    writeFileSync(join(project, 'esm.mjs'), serveOnce(`import { serve } from '${NAME}';`));
    assert.equal((await run(process.execPath, ['esm.mjs'], project)).stdout, 'served by /x\n');
  });

  test(`require('${NAME}') (CommonJS)`, { skip: process.features.require_module !== true && `Node ${process.version} cannot require() an ES module (it can from 20.19 and 22.12)` }, async () => {
    writeFileSync(join(project, 'cjs.cjs'), serveOnce(`const { serve } = require('${NAME}');`));
    assert.equal((await run(process.execPath, ['cjs.cjs'], project)).stdout, 'served by /x\n');
  });

  test('the types resolve under tsc --noEmit (strict, NodeNext)', async () => {
    writeFileSync(
      join(project, 'server.ts'),
      `import { serve, type RequestContext, type ServeOptions } from '${NAME}';\n\n` +
        'const options: ServeOptions = {\n' +
        '  fetch: (request: Request, context: RequestContext) => new Response(`${request.method} from ${context.remoteAddress}`),\n' +
        "  host: '127.0.0.1',\n  port: 8080,\n  workers: 2,\n  maxReqsPerChild: 1000,\n};\n" +
        'const server = serve(options);\nawait server.ready;\nconst url: string | undefined = server.url;\nconsole.log(url);\nawait server.close();\n\n' +
        '// @ts-expect-error: workers is a number (the types are real, not any)\n' +
        "serve({ fetch: () => new Response(''), workers: 'two' });\n",
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
          // @types/node as a user of a Node server has it (ours, rather than a download)
          types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['server.ts'],
      }),
    );
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-app', private: true, version: '1.0.0', type: 'module' }));
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], project);
  });
});
