// The ws package is an optional peer dependency, loaded by the first
// upgradeWebSocket(): where it cannot be found, that request fails with a 500
// and a logged error that says to install it, and the server serves on.

import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { loadWsPackage } from '../../dist/fetch/websocket.js';
import { RawConnection } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';
import { waitFor } from '../helpers/wait.mjs';
import { handshake } from '../helpers/websocket.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = fileURLToPath(new URL('../fixtures/websocket-app.mjs', import.meta.url));

/** Whether `ws` resolves from `directory` (node_modules up the tree, NODE_PATH, ~/.node_modules). */
function wsFoundFrom(directory) {
  try {
    createRequire(join(directory, 'noop.js')).resolve('ws');
    return true;
  } catch {
    return false;
  }
}

describe('the ws package', () => {
  test('is loaded from where starlight is installed; from where it is not found, the error says to install it', () => {
    assert.equal(typeof loadWsPackage().WebSocketServer, 'function');
    const empty = mkdtempSync(join(tmpdir(), 'starlight-no-ws-'));
    try {
      assert.throws(() => loadWsPackage([empty]), { message: 'upgradeWebSocket() needs the ws package, which is not installed: npm install ws' });
      assert.equal(typeof loadWsPackage([empty, ROOT]).WebSocket, 'function', 'the next place is tried');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('missing: upgradeWebSocket() answers 500 and logs how to install ws; the server serves on', async (t) => {
    // starlight installed without ws: its own files (it has no runtime dependency) copied to a
    // folder with no node_modules above it, serving an app from another such folder.
    const dir = mkdtempSync(join(tmpdir(), 'starlight-no-ws-'));
    try {
      const installed = join(dir, 'starlight');
      const appDir = join(dir, 'app');
      mkdirSync(appDir);
      for (const part of ['bin', 'dist', 'package.json']) cpSync(join(ROOT, part), join(installed, part), { recursive: true });
      cpSync(APP, join(appDir, 'app.mjs'));
      if (wsFoundFrom(join(installed, 'dist', 'fetch')) || wsFoundFrom(appDir)) {
        t.skip(`ws can be found from ${dir} (a node_modules above it, or NODE_PATH)`);
        return;
      }
      const server = await startServer(['--workers=0', 'app.mjs'], { bin: join(installed, 'bin', 'starlight.js'), cwd: appDir });
      try {
        const c = await RawConnection.connect(server.port);
        c.write(`${handshake('/echo')}GET /plain HTTP/1.1\r\nHost: x\r\n\r\n`);
        const { responses } = await c.responses(2);
        c.destroy();
        assert.deepEqual(responses.map((r) => r.status), [500, 200]);
        await waitFor(() => server.stderr.includes('GET /echo HTTP/1.1: the app failed'));
        assert.match(server.stderr, /upgradeWebSocket\(\) needs the ws package, which is not installed: npm install ws/);
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
