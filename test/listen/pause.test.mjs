// Pausing a listener without closing it (listen/bind.ts pauseAccepting(), which
// worker/fair-share.ts uses): a listener handed to another process, as the
// master hands them to workers, stops accepting while paused, the connection
// waiting in the backlog, and accepts it once resumed; a listener this process
// bound cannot be paused (it keeps accepting). Real handles on real sockets.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { acceptOn, bindListeners, pauseAccepting, resumeAccepting } from '../../dist/listen/bind.js';
import { tempDir } from '../helpers/process.mjs';
import { RawConnection } from '../helpers/raw.mjs';
import { sleep } from '../helpers/wait.mjs';

const BIND = new URL('../../dist/listen/bind.js', import.meta.url).href;

// The process that receives the listener: it accepts on it, pauses at once,
// and says so; told to resume, it resumes; it reports each connection accepted.
const RECEIVER = `
import { acceptOn, pauseAccepting, resumeAccepting } from ${JSON.stringify(BIND)};
let listener;
process.on('message', (message, handle) => {
  if (message === 'resume') return resumeAccepting(listener);
  listener = handle;
  acceptOn(listener, 16, (client) => { process.send('accepted'); client.close(); });
  process.send({ paused: pauseAccepting(listener) });
});
`;

/** Starts the receiving process, hands it the listener, and waits for its pause. */
async function handOver(listener) {
  const receiver = spawn(process.execPath, ['--input-type=module', '-e', RECEIVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const said = [];
  receiver.on('message', (message) => said.push(message));
  receiver.send('listener', listener.handle);
  const [first] = await once(receiver, 'message');
  return { receiver, said, paused: first.paused };
}

/** `connectTo(listener)`: RawConnection.connect()'s port or path; it resolves once the kernel has queued the connection in the backlog. */
async function pausedThenResumed(spec, connectTo) {
  const [listener] = await bindListeners([spec], { ipv6: false });
  const { receiver, said, paused } = await handOver(listener);
  try {
    assert.equal(paused, true, 'the handed-over listener paused');
    const client = await RawConnection.connect(connectTo(listener));
    await sleep(300);
    assert.deepEqual(said.slice(1), [], 'accepted while paused');
    assert.equal(client.closed, null);
    receiver.send('resume');
    assert.equal(await client.waitClosed(), 'fin');
    assert.deepEqual(said.slice(1), ['accepted'], 'the queued connection accepted once resumed');
    client.destroy();
  } finally {
    receiver.kill();
    listener.handle.close();
  }
}

test('a TCP listener handed to another process waits, paused, with the connection in the backlog, and accepts it once resumed', async () => {
  await pausedThenResumed({ kind: 'tcp', host: '127.0.0.1', port: 0 }, (listener) => listener.port);
});

test('so does a UNIX socket listener', async () => {
  const dir = tempDir();
  try {
    const path = dir.file('pause.sock');
    await pausedThenResumed({ kind: 'unix', path }, () => path);
  } finally {
    dir.remove();
  }
});

test('a listener bound in this process cannot be paused, and accepts on', async () => {
  const [listener] = await bindListeners([{ kind: 'tcp', host: '127.0.0.1', port: 0 }], { ipv6: false });
  let accepted = 0;
  acceptOn(listener.handle, 16, (client) => {
    accepted++;
    client.close();
  });
  try {
    assert.equal(pauseAccepting(listener.handle), false);
    resumeAccepting(listener.handle); // (harmless on a listener that was not paused)
    const client = await RawConnection.connect(listener.port);
    assert.equal(await client.waitClosed(), 'fin');
    assert.equal(accepted, 1);
    client.destroy();
  } finally {
    listener.handle.close();
  }
});
