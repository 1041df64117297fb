// The start-up line printed for each listener.
import { VERSION } from '../version.js';

export function banner(url: string, workers: number): string {
  const who = workers === 0 ? 'no workers, this process serves' : workers === 1 ? '1 worker' : `${workers} workers`;
  return `starlight/${VERSION}: Accepting connections at ${url} (${who})\n`;
}
