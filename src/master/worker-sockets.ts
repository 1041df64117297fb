// --reuse-port: the listening sockets of each worker's own, as the master keeps
// them. The master binds them for the worker and keeps a copy of each while the
// worker accepts on them, so that they can change hands without closing: Linux
// resets the connections still queued on a reuse-port socket as it closes, and
// refuses new ones when no socket of the port listens. In a rolling restart the
// new worker is handed the sockets of the old one it replaces, both accepting on
// them until the old one is told to stop. A worker recycled (its request limit,
// harakiri) or gone (killed, crashed) leaves its sockets spare: connections the
// kernel deals to them wait in their backlog for the next worker to serve, which
// takes them over instead of binding sockets of its own. Sockets close only when
// there is to be one worker fewer (TTOU: its own, and spare sets beyond the
// workers wanted, which no worker would take), or at the master's stop.

import { reusePortCopy, type BoundListener, type ListenHandle } from '../listen/bind.js';
import type { WorkerProcess } from './pool.js';

export class WorkerSockets {
  private readonly held = new Map<WorkerProcess, ListenHandle[]>();

  constructor(
    /** The sockets of workers that stopped or died (or a USR2 predecessor's), each set waiting for a worker to take it over. */
    private readonly spare: ListenHandle[][] = [],
  ) {}

  /**
   * Gives the worker its sockets: a spare set, else one of its own bound for each --reuse-port
   * listener. Throws (nothing sent) if one cannot be bound.
   */
  give(worker: WorkerProcess, listeners: readonly BoundListener[]): void {
    const spare = this.spare.shift();
    if (spare !== undefined) return this.send(worker, spare);
    const own: ListenHandle[] = [];
    try {
      for (const listener of listeners) if (listener.reusePort) own.push(reusePortCopy(listener));
    } catch (error) {
      for (const handle of own) handle.close();
      throw error;
    }
    this.send(worker, own);
  }

  /** Hands the sockets of `from` (about to be told to stop) to `to`, which accepts on them from now on. */
  handOver(from: WorkerProcess, to: WorkerProcess): void {
    const handles = this.take(from);
    if (handles.length > 0) this.send(to, handles);
  }

  /** Keeps the sockets of a worker that stops accepting (recycled, or gone) for the next worker to serve. */
  release(worker: WorkerProcess): void {
    const handles = this.take(worker);
    if (handles.length > 0) this.spare.push(handles);
  }

  /** Closes the worker's sockets: there is to be one worker fewer. */
  close(worker: WorkerProcess): void {
    for (const handle of this.take(worker)) handle.close();
  }

  /** Closes the spare sets beyond those that `wanted` workers, less the ones holding sockets, will take over. */
  trimSpare(wanted: number): void {
    const taken = Math.max(0, wanted - this.held.size);
    for (const handles of this.spare.splice(taken)) for (const handle of handles) handle.close();
  }

  /** Every set, held or spare (what a USR2 successor takes over). */
  get sets(): ListenHandle[][] {
    return [...this.held.values(), ...this.spare];
  }

  /** Closes every socket (the master stops). */
  closeAll(): void {
    for (const worker of [...this.held.keys()]) this.close(worker);
    for (const handles of this.spare.splice(0)) for (const handle of handles) handle.close();
  }

  private take(worker: WorkerProcess): ListenHandle[] {
    const handles = this.held.get(worker) ?? [];
    this.held.delete(worker);
    return handles;
  }

  private send(worker: WorkerProcess, handles: readonly ListenHandle[]): void {
    if (handles.length === 0) return;
    this.held.set(worker, [...(this.held.get(worker) ?? []), ...handles]);
    for (const handle of handles) worker.send({ type: 'listener', shared: false }, handle);
  }
}
