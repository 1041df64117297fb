// With more than one worker, the master accepts and deals each connection
// to the next ready worker in turn. Workers accepting from a shared socket
// themselves is cheaper but lopsided on Linux (whichever process wakes first
// takes a burst of connections); dealing keeps every worker's share within a
// connection of the others. Connections that arrive while no worker can take
// one wait here (up to a bound) instead of being refused.
//
// A worker is dealt a connection only once it has answered for the one
// before (`taken` or `declined`), and the master keeps its own copy of each
// connection until then: a worker whose event loop is blocked holds at most
// one, a connection a worker declines (it stopped accepting) is dealt to
// another, and so are those a worker dies without answering for. Every copy
// is closed here once a worker took the connection, or when the master stops.

import { acceptOn, type BoundListener, type ClientHandle } from '../listen/bind.js';
import type { Logger } from '../log/logger.js';
import type { WorkerProcess } from './pool.js';

/** Connections held while no worker can take one; beyond this, new ones are closed. */
const MAX_WAITING = 4096;

export class Balancer {
  private turn = 0;
  private waiting: ClientHandle[] = [];
  /** The connection dealt to each worker that it has not answered for yet. */
  private readonly unanswered = new Map<WorkerProcess, ClientHandle>();
  private closed = false;

  constructor(
    /** The workers that may take connections now. */
    private readonly ready: () => WorkerProcess[],
    private readonly log: Logger,
  ) {}

  listen(listeners: readonly BoundListener[], backlog: number): void {
    for (const listener of listeners) acceptOn(listener.handle, backlog, (client) => this.arrived(client), listener.url);
  }

  private arrived(client: ClientHandle): void {
    if (this.closed || this.waiting.length >= MAX_WAITING) return client.close();
    this.waiting.push(client);
    this.flush();
  }

  /** Deals waiting connections, oldest first, while a worker can take one. */
  flush(): void {
    while (this.waiting.length > 0) {
      const worker = this.nextFree();
      if (worker === undefined) return;
      this.deal(this.waiting.shift()!, worker);
    }
  }

  /** The next ready worker in turn that can be reached and has answered for its last connection. */
  private nextFree(): WorkerProcess | undefined {
    const workers = this.ready();
    for (let tried = 0; tried < workers.length; tried++) {
      const worker = workers[this.turn++ % workers.length]!;
      if (worker.reachable && !this.unanswered.has(worker)) return worker;
    }
    return undefined;
  }

  private deal(client: ClientHandle, worker: WorkerProcess): void {
    this.unanswered.set(worker, client);
    worker.send({ type: 'connection' }, client, (error) => {
      if (error === null) return;
      this.log.warn(`a connection could not be handed to ${worker.describe()}: ${error.message}`);
      this.takeBack(worker);
    });
  }

  /** The worker's answer for its connection: taken (our copy closes) or declined (dealt again). */
  answered(worker: WorkerProcess, taken: boolean): void {
    if (taken) {
      this.unanswered.get(worker)?.close();
      this.unanswered.delete(worker);
      this.flush();
    } else {
      this.takeBack(worker);
    }
  }

  /** The worker is gone (its channel closed): the connection it did not answer for is dealt again. */
  lost(worker: WorkerProcess): void {
    this.takeBack(worker);
  }

  private takeBack(worker: WorkerProcess): void {
    const client = this.unanswered.get(worker);
    if (client === undefined) return;
    this.unanswered.delete(worker);
    if (this.closed) return client.close();
    // It waited longest: first in line.
    this.waiting.unshift(client);
    this.flush();
  }

  /** Whether connections wait here, or wait for a worker's answer. */
  get holding(): boolean {
    return this.waiting.length > 0 || this.unanswered.size > 0;
  }

  /** Stops dealing: held connections are closed (those dealt already are the workers' to answer). */
  close(): void {
    this.closed = true;
    for (const client of this.waiting) client.close();
    this.waiting = [];
  }
}
