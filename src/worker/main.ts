// The entry of a worker process forked by the command line's master: the app
// is the module named on the command line (or -e code). Node's compile cache is
// on before the rest of the worker loads, so that a replacement worker starts
// from compiled code.
import { useCompileCache } from '../config/compile-cache.js';

useCompileCache();
const [{ bootApp }, { runWorkerProcess }] = await Promise.all([import('../app/load.js'), import('./process.js')]);

runWorkerProcess((start, options) =>
  bootApp({ app: start.app, code: options.eval, imports: options.import, cwd: start.cwd, fastClasses: options.fastFetch }),
);
