// Serving a parsed command line: --workers=0 serves in this process,
// otherwise this process becomes the master of forked workers.

import { runMaster } from '../master/master.js';
import { serveInProcess } from '../master/solo.js';
import type { CommandLine } from './parse.js';

export async function run(commandLine: CommandLine): Promise<void> {
  process.env.NODE_ENV = commandLine.options.env;
  if (commandLine.options.workers === 0) await serveInProcess(commandLine);
  else process.exit(await runMaster(commandLine));
}
