// Loopback ports chosen before a program that cannot say which port 0 chose starts (nginx,
// HAProxy, start_server, a server logging to a file): a port that was free a moment ago, and a
// wait until one accepts connections.
// Importing this module has no side effect.
import * as net from 'node:net';
import { waitFor } from './wait.mjs';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once 127.0.0.1:`port` accepts a connection; `exited()` returning a string (why the
 * program is gone) fails the wait at once; `what()` names what is awaited in the timeout's message.
 */
export function waitAccepting(port, { exited, what, timeoutMs = 10000 }) {
  return waitFor(
    () => {
      const gone = exited();
      if (gone) throw new Error(gone);
      return new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
    },
    { timeoutMs, intervalMs: 50, message: what },
  );
}
