// --reload (-r) and --reload-dirs (-R): a saved file in the watched folders
// starts the rolling restart HUP starts, once a burst of changes settles;
// node_modules, dot-folders, dot-files and editors' backups are no reason to
// restart; a save that breaks the app leaves the old workers serving (the
// error on stderr) until the next good save. Real processes on a temporary app.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../helpers/server.mjs';
import { get, sleep, tempDir, waitFor, withServer, writeApp } from '../helpers/process.mjs';

/** The master's "a file changed" records in stderr. */
const changes = (server) => server.stderr.match(/--reload: .* changed: replacing/g) ?? [];
const rollsDone = (server) => (server.stderr.match(/rolling restart done/g) ?? []).length;

/** Waits until the app, on new connections, answers `version` `times` times in a row. */
async function serving(server, version, timeoutMs = 15000) {
  await waitFor(
    async () => {
      for (let i = 0; i < 4; i++) if ((await get(server.port)).json.version !== version) return false;
      return true;
    },
    { timeoutMs, intervalMs: 50, message: () => `the app serving ${version}; stderr:\n${server.stderr}` },
  );
}

/** Serves v1 of a test app from a temporary folder with `args`; `body(server, dir, app)`. */
async function withReloadedApp(args, body) {
  const dir = tempDir();
  const app = dir.file('app.mjs');
  writeApp(app, 'v1');
  try {
    await withServer(['--workers=2', ...args, app], {}, (server) => body(server, dir, app));
  } finally {
    dir.remove();
  }
}

test('-r: a saved app file is served within seconds; a burst of five writes is one rolling restart', { timeout: 60000 }, async () => {
  await withReloadedApp(['-r'], async (server, dir, app) => {
    assert.match(server.stderr, new RegExp(`--reload: watching ${dir.path}`));
    await serving(server, 'v1');
    writeApp(app, 'v2');
    await serving(server, 'v2');
    await waitFor(() => rollsDone(server) === 1, { timeoutMs: 10000, message: 'the first roll done' });
    for (let i = 3; i <= 7; i++) writeApp(app, `v${i}`);
    await serving(server, 'v7');
    await waitFor(() => rollsDone(server) === 2, { timeoutMs: 10000, message: 'the second roll done' });
    await sleep(1000);
    assert.equal(changes(server).length, 2, server.stderr);
    assert.match(changes(server)[1], new RegExp(`--reload: ${app} changed`));
  });
});

test('-r: node_modules, .git, dot-files and backups are no reason to restart; a new folder is watched', { timeout: 60000 }, async () => {
  await withReloadedApp(['-r'], async (server, dir, app) => {
    await serving(server, 'v1');
    mkdirSync(dir.file('node_modules/lib'), { recursive: true });
    mkdirSync(dir.file('.git'));
    writeFileSync(dir.file('node_modules/lib/index.js'), 'changed');
    writeFileSync(dir.file('.git/index'), 'changed');
    writeFileSync(dir.file('.app.mjs.swp'), 'swap');
    writeFileSync(dir.file('app.mjs~'), 'backup');
    writeFileSync(dir.file('4913'), '');
    // A restart would be logged within the settle time (0.2 s): allow well over it.
    await sleep(1500);
    assert.deepEqual(changes(server), [], server.stderr);
    // A folder made after the start is watched: a file saved in it restarts.
    mkdirSync(dir.file('lib'));
    await sleep(500);
    writeFileSync(dir.file('lib/helper.mjs'), 'export const x = 1;\n');
    writeApp(app, 'v2');
    await serving(server, 'v2');
    await waitFor(() => changes(server).length >= 1, { message: 'the change record' });
  });
});

test('-r: a save with a syntax error keeps the old code serving and shows the error; the next good save rolls', { timeout: 60000 }, async () => {
  await withReloadedApp(['-r'], async (server, dir, app) => {
    await serving(server, 'v1');
    writeFileSync(app, 'export default { fetch() { return new Response("v2") ;\n');
    await waitFor(() => /rolling restart stopped/.test(server.stderr), { timeoutMs: 15000, message: () => `the roll to stop; stderr:\n${server.stderr}` });
    assert.match(server.stderr, /SyntaxError/);
    await serving(server, 'v1');
    writeApp(app, 'v3');
    await serving(server, 'v3');
  });
});

test('--reload-dirs=DIR (implies --reload): changes there restart; the app\'s own folder is not watched', { timeout: 60000 }, async () => {
  const other = tempDir();
  try {
    await withReloadedApp([`--reload-dirs=${other.path}`], async (server, dir, app) => {
      assert.match(server.stderr, new RegExp(`--reload: watching ${other.path}\\n`));
      await serving(server, 'v1');
      writeApp(app, 'v2');
      await sleep(1500);
      assert.deepEqual(changes(server), [], server.stderr);
      writeFileSync(join(other.path, 'config.json'), '{}');
      await serving(server, 'v2');
      assert.match(changes(server)[0], new RegExp(`--reload: ${join(other.path, 'config.json')} changed`));
    });
  } finally {
    other.remove();
  }
});

test('--reload with --workers=0 is refused (no workers to restart); a folder that is not there stops the start', { timeout: 30000 }, async () => {
  const dir = tempDir();
  const app = dir.file('app.mjs');
  writeApp(app, 'v1');
  try {
    const solo = await startServer(['--workers=0', '-r', app], { wait: 'banner-or-exit' });
    assert.equal((await solo.exited).code, 2);
    assert.match(solo.stderr, /--reload needs workers/);
    const missing = await startServer(['--workers=1', `--reload-dirs=${dir.file('nothing')}`, app], { wait: 'banner-or-exit' });
    assert.equal((await missing.exited).code, 1);
    assert.match(missing.stderr, /--reload cannot watch .*nothing: ENOENT/);
  } finally {
    dir.remove();
  }
});
