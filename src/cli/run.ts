// Serving a parsed command line: --workers=0 serves in this process,
// otherwise this process becomes the master of forked workers.

import { spawn } from 'node:child_process';
import { isTypeScript, resolveAppFile, typeScriptSupport } from '../app/locate.js';
import { runMaster } from '../master/master.js';
import type { CommandLine } from './parse.js';

const FORWARDED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1', 'SIGUSR2'] as const;

/**
 * Node 22.6–22.17 strip TypeScript types only with a flag: run this command
 * again under it, passing signals on, and end as it ends. (Forked workers get
 * the flag from the master instead.)
 */
function rerunWithTypeStripping(): Promise<never> {
  const child = spawn(process.execPath, ['--experimental-strip-types', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  for (const signal of FORWARDED_SIGNALS) process.on(signal, () => child.kill(signal));
  return new Promise(() => {
    child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
  });
}

export async function run(commandLine: CommandLine): Promise<void> {
  process.env.NODE_ENV = commandLine.options.env;
  if (commandLine.options.workers > 0) process.exit(await runMaster(commandLine));
  if (commandLine.options.eval === undefined && isTypeScript(resolveAppFile(commandLine.app, process.cwd())) && typeScriptSupport() === 'with-flag') {
    await rerunWithTypeStripping();
  }
  // Loaded only here: a master never loads the serving stack (nor the Fetch classes it brings).
  const { serveInProcess } = await import('../master/solo.js');
  await serveInProcess(commandLine);
}
