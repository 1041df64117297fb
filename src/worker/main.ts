// The entry of a worker process forked by the command line's master: the app
// is the module named on the command line (or -e code).
import { bootApp } from '../app/load.js';
import { runWorkerProcess } from './process.js';

runWorkerProcess((start, options) =>
  bootApp({ app: start.app, code: options.eval, imports: options.import, cwd: start.cwd, fastClasses: options.fastFetch }),
);
