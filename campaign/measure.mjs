// What the campaign scripts share besides the summary: the least-squares slope of a series of
// samples, and a SIGINT/SIGTERM handler that stops what a script started before it exits.

/** The least-squares slope of [x, y] points (y per unit of x); 0 for fewer than two distinct x. */
export function fitSlope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const [x, y] of points) {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

/** On SIGINT or SIGTERM: `cleanup()` (stop every process started, by pid), then exit 130. remove() undoes it. */
export function onInterrupt(cleanup) {
  const handler = async (signal) => {
    process.stderr.write(`\n${signal}: stopping what was started\n`);
    try {
      await cleanup();
    } finally {
      process.exit(130);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, handler);
  return { remove: () => ['SIGINT', 'SIGTERM'].forEach((signal) => process.off(signal, handler)) };
}
