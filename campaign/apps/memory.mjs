// What the soak's apps answer at /soak/memory: the worker's pid and its live memory, the bytes
// of the JS heap and of external memory still in use after a full GC (the soak starts its
// servers with --expose-gc; without it the figure includes garbage not collected yet).
export function liveMemory() {
  globalThis.gc?.();
  const { heapUsed, external } = process.memoryUsage();
  return { pid: process.pid, live: heapUsed + external, collected: typeof globalThis.gc === 'function' };
}
