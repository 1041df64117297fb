// Where the app is and how it can run, without loading it: the master uses
// this (it never imports app code, nor the serving stack); load.ts too.

import { existsSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';

export class AppLoadError extends Error {
  readonly exitCode = 1;
}

/** Looked for, in this order, when no APP is given. */
export const DEFAULT_APP_FILES = ['app.ts', 'app.mts', 'app.js', 'app.mjs', 'app.cjs'];
const APP_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);
const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/** The absolute path of the app module: APP, or the first default file in `cwd`. */
export function resolveAppFile(app: string | undefined, cwd: string): string {
  if (app === undefined) {
    const found = DEFAULT_APP_FILES.find((name) => existsSync(join(cwd, name)));
    if (found === undefined) {
      throw new AppLoadError(`no APP given, and none of ${DEFAULT_APP_FILES.join(', ')} is in ${cwd}`);
    }
    return join(cwd, found);
  }
  const file = resolve(cwd, app);
  if (!APP_EXTENSIONS.has(extname(file))) {
    throw new AppLoadError(`${app}: an app is a .js, .mjs, .cjs, .ts, .mts or .cts module`);
  }
  if (!existsSync(file)) throw new AppLoadError(`${app}: no such file (looked for ${file})`);
  return file;
}

/** How this Node runs TypeScript: natively, only with --experimental-strip-types, or not at all. */
export function typeScriptSupport(): 'native' | 'with-flag' | 'none' {
  const features = process.features as { typescript?: string | false };
  if (features.typescript === 'strip' || features.typescript === 'transform') return 'native';
  if (process.execArgv.includes('--experimental-strip-types')) return 'native';
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 6) ? 'with-flag' : 'none';
}

export function isTypeScript(file: string): boolean {
  return TYPESCRIPT_EXTENSIONS.has(extname(file));
}

