// A log file that cannot be written (log/log-file.ts): /dev/full fails every
// write with ENOSPC, as a full disk does. The server answers on, and stderr
// says once that the log cannot be written (found by campaign/faults.mjs: the
// failure used to be silent).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get } from '../helpers/process.mjs';
import { freePort, waitAccepting } from '../helpers/ports.mjs';
import { startServer } from '../helpers/server.mjs';
import { sleep } from '../helpers/wait.mjs';

const APP = ['-e', 'export default { fetch: () => { console.error("app line"); return new Response("ok"); } }'];

for (const option of ['--access-log', '--error-log']) {
  test(`${option}=/dev/full: requests are answered, stderr says once that the log cannot be written`, async () => {
    // With --error-log the banner goes to the log: wait for the port.
    const port = await freePort();
    const server = await startServer([`--port=${port}`, '--workers=1', `${option}=/dev/full`, ...APP], { listen: false, wait: 'none' });
    try {
      await waitAccepting(port, { exited: () => server.exit && `exited: ${server.stderr}`, what: 'starlight' });
      for (let i = 0; i < 5; i++) assert.equal((await get(port)).status, 200);
      await sleep(200);
      const lines = server.stderr.split('\n').filter((line) => line.includes(`${option} /dev/full: cannot write (ENOSPC`));
      assert.ok(lines.length >= 1, `no "cannot write" line; stderr:\n${server.stderr}`);
      // Once per process (the master's and the worker's own), not once a record.
      assert.ok(lines.length <= 2, `said ${lines.length} times:\n${lines.join('\n')}`);
    } finally {
      await server.stop();
    }
  });
}
