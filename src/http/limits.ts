// The HTTP engine's fixed limits: those no option sets, and the lingering
// close, which the Node-app server copies (it imports this module, not the
// connection).

/** The request line may be at most this long (over it: 414). */
export const MAX_REQUEST_LINE = 8192;
/** Chunk extensions in one request may total at most this much (over it: 413). */
export const MAX_CHUNK_EXTENSIONS = 16384;
/** How long a closing connection drops late bytes before it is torn down. */
export const LINGER_MS = 2000;
