// Real nginx (Debian's package) in front of starlight, over TCP and over a UNIX socket, with
// upstream keep-alive, using the site config docs/deploy.md shows (helpers/nginx.mjs):
// requests are answered and nginx's connections to starlight are reused; a HUP rolling restart
// under a bounded load through nginx loses no request; a TERM lets the requests starlight had
// accepted finish, after which nginx answers 502 (nothing listens any more). docs/deploy.md
// shows that site config, which the first test checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { nginxSkip, siteConfig, startNginx } from '../helpers/nginx.mjs';
import { APP, Client, get, newSockets, openSockets, tempDir, waitFor, waitForWorkers } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';
import { hupThroughProxy, termThroughProxy } from '../helpers/behind-proxy.mjs';

/**
 * Starts starlight (`--workers=N` and the test app) reachable over `kind` ('tcp': its TCP
 * port; 'unix': also a socket file in `dir`), and nginx in front of it; runs `body`; stops both.
 */
async function behindNginx(kind, workers, body) {
  const dir = tempDir();
  const socket = dir.file('starlight.sock');
  const server = await startServer([`--workers=${workers}`, ...(kind === 'unix' ? [`--listen=unix:${socket}`] : []), APP], { timeoutMs: 15000 });
  let nginx = null;
  try {
    if (kind === 'unix') await waitFor(() => server.stderr.includes(`http://unix:${socket}:/`), { message: () => `the UNIX socket's banner; stderr:\n${server.stderr}` });
    // Served once directly: the workers hold their listeners, so openSockets() counts only connections.
    await get(server.port);
    nginx = await startNginx(dir, kind === 'unix' ? `unix:${socket}` : `127.0.0.1:${server.port}`);
    await body(server, nginx);
  } finally {
    await nginx?.stop();
    await server.stop();
    dir.remove();
  }
}

const DEPLOY_DOC = new URL('../../docs/deploy.md', import.meta.url);

test('docs/deploy.md shows the site config these tests run, for TCP and for a UNIX socket', () => {
  const doc = readFileSync(DEPLOY_DOC, 'utf8');
  for (const [marker, upstream] of [['tcp', '127.0.0.1:8080'], ['unix', 'unix:/run/starlight/starlight.sock']]) {
    const block = `<!-- nginx:${marker} -->\n\`\`\`nginx\n${siteConfig(upstream, '80')}\`\`\`\n`;
    assert.ok(doc.includes(block), `docs/deploy.md has, after <!-- nginx:${marker} -->:\n${block}`);
  }
});

describe('nginx in front of starlight', { skip: nginxSkip }, () => {
  for (const kind of ['tcp', 'unix']) {
    test(`over ${kind}: requests answered, one upstream keep-alive connection reused`, { timeout: 30000 }, async () => {
      await behindNginx(kind, 1, async (server, nginx) => {
        const [worker] = await waitForWorkers(server.pid, 1);
        const before = openSockets(worker);
        const client = await Client.open(nginx.port);
        try {
          const seen = [];
          for (let i = 0; i < 5; i++) {
            const { status, json } = await client.request(`/through-nginx-${i}`);
            assert.equal(status, 200);
            assert.equal(json.pid, worker);
            assert.equal(json.path, `/through-nginx-${i}`);
            seen.push(newSockets(worker, before));
          }
          // Without upstream keep-alive nginx opens a connection per request and closes it.
          assert.equal(seen[0].length, 1, `one connection from nginx after the first request: ${seen[0]}`);
          for (const sockets of seen) assert.deepEqual(sockets, seen[0], 'the same connection served every request');
        } finally {
          client.destroy();
        }
      });
    });

    test(`over ${kind}: a HUP rolling restart under load through nginx loses no request`, { timeout: 40000 }, async () => {
      await behindNginx(kind, 2, async (server, nginx) => {
        await hupThroughProxy(server, nginx.port, 'nginx');
      });
    });

    test(`over ${kind}: TERM finishes the requests starlight accepted, then nginx answers 502`, { timeout: 30000 }, async () => {
      await behindNginx(kind, 1, async (server, nginx) => {
        await termThroughProxy(server, nginx.port, 'nginx');
        assert.equal((await get(nginx.port, '/after')).status, 502);
      });
    });
  }
});
