// Node's compile cache (Node 22.1+): the code of every module a process loads after
// useCompileCache() (starlight's own, the app's, its dependencies') is kept on disk in
// Node's cache folder, so that the next process (a worker replacing a recycled one, the
// next start) skips compiling it. On Node 20 there is none and this does nothing;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off, NODE_COMPILE_CACHE=DIR moves it (Node's own
// variables). A folder that cannot be written leaves the process uncached, never failing.
import module from 'node:module';

type WithCompileCache = { enableCompileCache?: () => unknown };

/** Turns Node's compile cache on for the modules this process loads from now on, where Node has one. */
export function useCompileCache(): void {
  (module as WithCompileCache).enableCompileCache?.();
}
