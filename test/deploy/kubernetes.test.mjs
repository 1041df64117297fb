// The Kubernetes Deployment of docs/deploy.md, without Kubernetes: its numbers checked against
// each other and against the Dockerfile's command line, and the kubelet's part played by hand on
// starlight started with that command line: the probes' path is answered; at a stop, the preStop
// sleep while a bounded load goes on and then stops (the endpoints removed), then TERM with
// requests in flight: no request fails, and starlight exits 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appFolder, docBlock, dockerfile, optionValue } from '../helpers/deploy-doc.mjs';
import { Client, appSource, get, settle, sleep, startLoad, waitForWorkers } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';

/** The Deployment's numbers and paths, read from the page's YAML (its keys are unique but for the probes'). */
function deployment() {
  const yaml = docBlock('kubernetes:deployment');
  const number = (key) => Number(new RegExp(`^\\s*${key}: (\\d+)$`, 'm').exec(yaml)?.[1]);
  const probe = (kind) => {
    const [, path, port] = new RegExp(`${kind}:\\n\\s+httpGet:\\n\\s+path: (\\S+)\\n\\s+port: (\\d+)`).exec(yaml) ?? [];
    return { path, port: Number(port) };
  };
  const preStop = /preStop:\n\s+exec:\n(?:\s+#.*\n)*\s+command: (\[.*\])/.exec(yaml);
  return {
    grace: number('terminationGracePeriodSeconds'),
    containerPort: number('- containerPort'),
    readiness: probe('readinessProbe'),
    liveness: probe('livenessProbe'),
    preStop: preStop === null ? null : JSON.parse(preStop[1]),
  };
}

test('docs/deploy.md: the Deployment\'s probes ask the image\'s port, and its grace period covers the preStop sleep plus --graceful-timeout', () => {
  const { env, cmd } = dockerfile();
  const { grace, containerPort, readiness, liveness, preStop } = deployment();
  assert.equal(preStop?.[0], 'sleep', `preStop sleeps: ${preStop}`);
  const sleepSeconds = Number(preStop[1]);
  assert.ok(sleepSeconds > 0);
  for (const port of [containerPort, readiness.port, liveness.port]) assert.equal(port, Number(env.PORT), 'the port PORT names');
  assert.equal(readiness.path, '/healthz');
  assert.equal(liveness.path, '/healthz');
  const graceful = Number(optionValue(cmd, 'graceful-timeout'));
  assert.ok(grace > sleepSeconds + graceful, `terminationGracePeriodSeconds ${grace} > ${sleepSeconds} + ${graceful}`);
});

test('the probes\' path is served; a preStop sleep, then TERM, under load with requests in flight: none fails, exit 0', { timeout: 40000 }, async () => {
  const { cmd } = dockerfile();
  const { readiness, preStop } = deployment();
  const sleepMs = Number(preStop[1]) * 1000;
  const dir = appFolder(appSource('v1'));
  const server = await startServer(cmd.slice(1), { cwd: dir.path, timeoutMs: 15000 });
  const clients = [];
  try {
    await waitForWorkers(server.pid, 2, 15000);
    const probe = await get(server.port, readiness.path);
    assert.equal(probe.status, 200);
    assert.equal(probe.body, 'ok\n');

    const load = startLoad(server.port, { keepAlive: 2, oneShot: 2, path: '/slow?ms=100' });
    // preStop: traffic goes on until the endpoints' removal has spread (half the sleep here), then stops.
    await sleep(sleepMs / 2);
    const stats = await load.stop();
    await sleep(sleepMs / 2 - 500);
    // Requests still in flight at TERM: long ones, sent just before it.
    for (let i = 0; i < 2; i++) clients.push(await Client.open(server.port));
    const inFlight = clients.map((client) => settle(client.request('/slow?ms=2000')));
    await sleep(500);
    server.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    const exit = await server.exited;

    assert.deepEqual(stats.failures, [], `failed requests during the preStop sleep (ok: ${stats.ok})`);
    assert.ok(stats.ok > 0, 'requests answered during the sleep');
    for (const { response, error } of answers) {
      assert.equal(error, undefined, `a request in flight at TERM: ${error?.message}`);
      assert.equal(response.status, 200);
    }
    assert.deepEqual(exit, { code: 0, signal: null }, `exit status 0; stderr:\n${server.stderr}`);
  } finally {
    for (const client of clients) client.destroy();
    await server.stop();
    dir.remove();
  }
});
