// Serving a parsed command line: --workers=0 serves in this process,
// otherwise this process becomes the master of forked workers.

import type { CommandLine } from './parse.js';
import { serveInProcess } from '../master/solo.js';

export async function run(commandLine: CommandLine): Promise<void> {
  process.env.NODE_ENV = commandLine.options.env;
  if (commandLine.options.workers === 0) await serveInProcess(commandLine);
  else throw new Error('--workers above 0 needs the master, which is not built yet; use --workers=0');
}
