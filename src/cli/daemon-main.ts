// The daemon's entry (daemon.ts spawns it detached): it receives the command
// line from the starlight command that started it, serves it, and answers
// `ready` once serving or `failed` with the error, then lets the command go.
// Its USR2 runs that command again (its own command line is this entry's,
// without what it serves).

import { UsageError } from '../config/resolve.js';
import { decodeCommandLine, type FromDaemon, type ToDaemon } from './daemon.js';
import { commandLineMaster, serveAlone } from './run.js';

/** Tells the starlight command how the start went, then closes the channel (the command exits). */
function report(answer: FromDaemon): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send?.(answer, undefined, undefined, () => {
      process.disconnect();
      resolve();
    });
  });
}

async function serve(message: ToDaemon): Promise<void> {
  process.title = 'starlight master';
  const commandLine = decodeCommandLine(message.commandLine);
  try {
    if (commandLine.options.workers === 0) {
      await serveAlone(commandLine);
      await report({ type: 'ready' });
      return;
    }
    const master = commandLineMaster(commandLine, () => void report({ type: 'ready' }));
    master.upgradeCommand(message.command);
    const code = await master.run();
    if (master.failure !== null) await report({ type: 'failed', message: master.failure, exitCode: code });
    process.exit(code);
  } catch (error) {
    const exitCode = error instanceof UsageError ? 2 : ((error as { exitCode?: number }).exitCode ?? 1);
    await report({ type: 'failed', message: error instanceof Error ? error.message : String(error), exitCode });
    process.exit(exitCode);
  }
}

process.once('message', (message: ToDaemon) => void serve(message));
