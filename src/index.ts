// starlight's public API: serve() and the types an app meets.
export { serve } from './serve.js';
export type { FetchHandler, ListeningAddress, Server, ServeOptions } from './serve.js';
export type { Options } from './config/options.js';
export type { RequestContext, WorkerInfo } from './fetch/context.js';
export { FastResponse } from './fetch/light/fast-response.js';
