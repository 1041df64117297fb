// The HTTP engine's fixed limits: those no option sets, the lingering close,
// and how often deadlines are checked, which the Node-app server shares (it
// imports this module, not the connection).

/** The request line may be at most this long (over it: 414). */
export const MAX_REQUEST_LINE = 8192;
/** Chunk extensions in one request may total at most this much (over it: 413). */
export const MAX_CHUNK_EXTENSIONS = 16384;
/** How long a closing connection drops late bytes before it is torn down. */
export const LINGER_MS = 2000;

/** How often deadlines of `shortestMs` are checked: a few times per deadline, at most once a second. */
export function deadlineCheckPeriod(shortestMs: number): number {
  return Math.min(1000, Math.max(10, shortestMs / 4));
}
