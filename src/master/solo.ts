// --workers=0: the master serves by itself, with no worker to start,
// supervise or replace. It binds, loads the app, serves, and stops on a
// signal: TERM/INT gracefully (a second one at once), QUIT at once.

import { bootApp } from '../app/load.js';
import type { CommandLine } from '../cli/parse.js';
import { withAppDefaults } from '../cli/parse.js';
import { listenSpecs } from '../listen/address.js';
import { bindListeners } from '../listen/bind.js';
import { createLogger } from '../log/logger.js';
import { Worker } from '../worker/worker.js';
import { banner } from './banner.js';

export async function serveInProcess(commandLine: CommandLine): Promise<void> {
  process.title = 'starlight master';
  const log = createLogger(process.stderr, () => `starlight[${process.pid}]`);
  const app = await bootApp({
    app: commandLine.app,
    code: commandLine.options.eval,
    imports: commandLine.options.import,
    cwd: process.cwd(),
    fastResponse: commandLine.options.fastFetch,
  });
  const options = withAppDefaults(commandLine, app, app.file);
  const listeners = await bindListeners(listenSpecs(options), { ipv6: options.ipv6 });

  let stopping = false;
  const worker = new Worker({
    id: 0,
    options,
    app,
    log,
    retire: (reason) => log.warn(`worker would retire (${reason}), but with --workers=0 there is no worker to replace it; serving on`),
  });
  await worker.listen(listeners.map((listener) => listener.handle));
  if (!options.quiet) for (const listener of listeners) process.stderr.write(banner(listener.url, 0));

  const stop = async (graceful: boolean) => {
    if (stopping || !graceful) {
      worker.http.destroy();
      process.exit(0);
    }
    stopping = true;
    await worker.stop(options.gracefulTimeout * 1000, true);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop(true));
  process.on('SIGINT', () => void stop(true));
  process.on('SIGQUIT', () => void stop(false));
  process.on('SIGHUP', () => log.warn('SIGHUP ignored: with --workers=0 there are no workers to restart'));
}
