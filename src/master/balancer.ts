// With more than one worker, the master accepts and deals each connection
// to the next ready worker in turn. Workers accepting from a shared socket
// themselves is cheaper but lopsided on Linux (whichever process wakes first
// takes a burst of connections); dealing keeps every worker's share within a
// connection of the others. Connections that arrive while no worker is ready
// wait here (up to a bound) instead of being refused.

import { acceptOn, type BoundListener, type ClientHandle } from '../listen/bind.js';
import type { Logger } from '../log/logger.js';
import type { WorkerProcess } from './pool.js';

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
    for (const listener of listeners) acceptOn(listener.handle, backlog, (client) => this.deal(client), listener.url);
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
