// The start-up line printed for each listener.
import { VERSION } from '../config/version.js';

/** `ready`: how many of the `workers` serve, when not all of them do yet. */
export function banner(where: string, workers: number, ready = workers): string {
  const count = workers === 1 ? '1 worker' : `${workers} workers`;
  const who = workers === 0 ? 'no workers, this process serves' : ready < workers ? `${ready} of ${count} ready` : count;
  return `starlight/${VERSION}: Accepting connections at ${where} (${who})\n`;
}
