// With more than one worker, the master accepts and deals each connection
// to the next ready worker in turn. Workers accepting from a shared socket
// themselves is cheaper but lopsided on Linux (whichever process wakes first
// takes a burst of connections); dealing keeps every worker's share within a
// connection of the others. Connections that arrive while no worker is ready
// wait here (up to a bound) instead of being refused.

import { getSystemErrorName } from 'node:util';
import type { BoundListener } from '../listen/bind.js';
import type { Logger } from '../log/logger.js';
import type { WorkerProcess } from './pool.js';

/** An accepted connection's handle, as libuv gives it to the listening handle. */
type ClientHandle = object & { close(): void };
interface ListeningHandle {
  onconnection: ((status: number, client?: ClientHandle) => void) | null;
  listen(backlog: number): number;
}

/** Connections held while no worker is ready; beyond this, new ones are closed. */
const MAX_WAITING = 4096;

export class Balancer {
  private turn = 0;
  private waiting: ClientHandle[] = [];

  constructor(
    /** The workers that may take connections now. */
    private readonly ready: () => WorkerProcess[],
    private readonly log: Logger,
  ) {}

  listen(listeners: readonly BoundListener[], backlog: number): void {
    for (const listener of listeners) {
      const handle = listener.handle as unknown as ListeningHandle;
      handle.onconnection = (status, client) => {
        if (status === 0 && client !== undefined) this.deal(client);
      };
      const status = handle.listen(backlog);
      if (status !== 0) throw new Error(`cannot listen on ${listener.url}: ${getSystemErrorName(status)}`);
    }
  }

  private deal(client: ClientHandle): void {
    const workers = this.ready();
    if (workers.length === 0) {
      if (this.waiting.length < MAX_WAITING) this.waiting.push(client);
      else client.close();
      return;
    }
    const worker = workers[this.turn++ % workers.length]!;
    worker.send({ type: 'connection' }, client, (error) => {
      // Once sent, the worker holds its own descriptor; ours is closed either way.
      client.close();
      if (error !== null) this.log.warn(`a connection could not be handed to ${worker.describe()}: ${error.message}`);
    });
  }

  /** Deals the connections that waited for a worker to be ready. */
  flush(): void {
    if (this.waiting.length === 0 || this.ready().length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const client of waiting) this.deal(client);
  }

  /** Stops dealing: held connections are closed. */
  close(): void {
    for (const client of this.waiting) client.close();
    this.waiting = [];
  }
}
