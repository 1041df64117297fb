// Finding and importing the app module, and telling what it is: a Fetch app
// (`export default { fetch }`) or a Node `(req, res)` app (with its named
// `upgrade` export, if any), and where it asks to be served (its
// `port`/`hostname`). Every way this can fail (no file, an
// import that throws, a wrong export) becomes an AppLoadError whose message
// names the file and says what was found.

import { spawnSync } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FetchApp } from '../fetch/adapter.js';
import { installFastClasses } from '../fetch/light/fast-response.js';
import type { NodeListener, NodeUpgradeHandler } from '../node/server.js';
import { AppLoadError, isTypeScript, resolveAppFile, typeScriptSupport } from './locate.js';

/** A port or hostname an app asks for, as it wrote it (checked when the options are resolved). */
export type AppSetting = string | number | undefined;

export type LoadedApp =
  | { kind: 'fetch'; app: FetchApp; port: AppSetting; hostname: AppSetting; file: string }
  | { kind: 'node'; listener: NodeListener; upgrade: NodeUpgradeHandler | undefined; port: AppSetting; hostname: AppSetting; file: string };

let shims = 0;

/**
 * Imports a package as a module in `cwd` would, with the resolution of ES
 * modules (the `import` condition, as `node --import` does), through a
 * one-line module written there for the moment. False if it cannot be written.
 */
async function importFromCwd(specifier: string, cwd: string): Promise<boolean> {
  const file = join(cwd, `.starlight-import-${process.pid}-${++shims}.mjs`);
  try {
    writeFileSync(file, `import ${JSON.stringify(specifier)};\n`);
  } catch {
    return false;
  }
  try {
    await import(pathToFileURL(file).href);
  } finally {
    unlinkSync(file);
  }
  return true;
}

/** Imports `--import` modules (resolved from `cwd`, like the app's own imports). */
export async function preload(modules: readonly string[], cwd: string): Promise<void> {
  const requireFromCwd = createRequire(join(cwd, 'noop.js'));
  for (const specifier of modules) {
    try {
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        await import(pathToFileURL(resolve(cwd, specifier)).href);
        continue;
      }
      // Found from cwd? (require.resolve picks a package's `require` entry, and
      // refuses one that only has an `import` entry: only the finding counts.)
      let found: string | undefined;
      let inCwd = true;
      try {
        found = pathToFileURL(requireFromCwd.resolve(specifier)).href;
      } catch (error) {
        inCwd = (error as { code?: unknown }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
      }
      if (inCwd && (await importFromCwd(specifier, cwd))) continue;
      await import(found ?? specifier); // else resolved from starlight's own location (e.g. a global install)
    } catch (error) {
      throw new AppLoadError(`--import ${specifier} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
}

function describeExport(value: unknown): string {
  if (value === undefined) return 'no default export';
  if (value === null) return 'a default export of null';
  if (typeof value === 'object') {
    const keys = Object.keys(value).slice(0, 5);
    return `a default export object with ${keys.length === 0 ? 'no properties' : `properties ${keys.join(', ')}`} but no fetch() method`;
  }
  return `a default export of type ${typeof value}`;
}

/**
 * Only a number or a string is taken for a port or hostname: anything else is no setting at all
 * (a router such as itty-router's AutoRouter answers every property read with a function).
 */
function appSetting(value: unknown): AppSetting {
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/**
 * Tells a Fetch app from a Node app by the shape of the default export, and reads the app's
 * `port` and `hostname`: the default export object's own first, then the module's named exports.
 */
export function classifyExport(file: string, moduleNamespace: Record<string, unknown>): LoadedApp {
  let value = moduleNamespace.default;
  // CommonJS compiled from `export default` (tsc, Babel): the default is exports.default.
  if (typeof value === 'object' && value !== null && (value as { __esModule?: unknown }).__esModule === true && 'default' in value) {
    value = (value as { default: unknown }).default;
  }
  const exported = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const port = appSetting(exported.port) ?? appSetting(moduleNamespace.port);
  const hostname = appSetting(exported.hostname) ?? appSetting(moduleNamespace.hostname);
  // A Node app's `upgrade(req, socket, head)`: node:http's 'upgrade' (and 'connect') event.
  const upgrade = typeof moduleNamespace.upgrade === 'function' ? (moduleNamespace.upgrade as NodeUpgradeHandler) : undefined;
  if (typeof value === 'function') return { kind: 'node', listener: value as NodeListener, upgrade, port, hostname, file };
  if (typeof exported.fetch === 'function') return { kind: 'fetch', app: exported as unknown as FetchApp, port, hostname, file };
  if (typeof exported.callback === 'function') {
    const listener = (exported.callback as () => unknown).call(exported);
    if (typeof listener === 'function') return { kind: 'node', listener: listener as NodeListener, upgrade, port, hostname, file };
    throw new AppLoadError(`${file}: its default export's callback() returned ${typeof listener}, not a (req, res) function`);
  }
  throw new AppLoadError(
    `${file}: found ${describeExport(value)}; export default { fetch(request) { … } } for a Fetch app, or a (req, res) function for a Node app`,
  );
}

/**
 * Where a syntax error is: Node does not say for ES modules (the stack has
 * only its own frames), so `node --check` is asked, which shows the file, line
 * and column. Null if the file itself parses (the error is in a module it imports).
 */
function syntaxErrorLocation(file: string): string | null {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  if (check.status === 0 || typeof check.stderr !== 'string' || check.stderr === '') return null;
  return check.stderr.replace(/\n+Node\.js v[\d.]+\s*$/, '');
}

async function importModule(file: string, name = file): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    if (isTypeScript(file) && typeScriptSupport() !== 'native' && error instanceof Error && /Unknown file extension|ERR_UNKNOWN_FILE_EXTENSION/.test(`${(error as { code?: string }).code} ${error.message}`)) {
      throw new AppLoadError(typeScriptHelp(file));
    }
    let detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    // (`node --check` does not strip types: not for TypeScript, whose errors say where they are.)
    if (error instanceof SyntaxError && !isTypeScript(file) && !detail.includes(file)) {
      detail = syntaxErrorLocation(file) ?? `${detail}\n(in a module that ${name} imports: Node does not say which)`;
    }
    throw new AppLoadError(`${name}: the app failed to load:\n${detail}`);
  }
}

export function typeScriptHelp(file: string): string {
  return (
    `${file} is TypeScript, which Node ${process.version} cannot run by itself. Either use Node 22.18 or later ` +
    `(type stripping is built in), or load a TypeScript loader: starlight --import tsx ${file} (npm install tsx)`
  );
}

/**
 * Imports the app module: the file, or `-e` code (written to a temporary
 * module in `cwd` so that its imports resolve as the app's would).
 */
export async function loadApp(spec: { app: string | undefined; code: string | undefined; cwd: string }): Promise<LoadedApp> {
  if (spec.code !== undefined) {
    const file = join(spec.cwd, `.starlight-eval-${process.pid}-${Date.now()}.mjs`);
    try {
      writeFileSync(file, spec.code);
    } catch (error) {
      throw new AppLoadError(`-e: cannot write a temporary module in ${spec.cwd}: ${(error as Error).message}`);
    }
    try {
      return classifyExport('-e', await importModule(file, '-e'));
    } finally {
      unlinkSync(file);
    }
  }
  const file = resolveAppFile(spec.app, spec.cwd);
  return classifyExport(file, await importModule(file));
}

/**
 * Everything a serving process does before it can take requests: install the
 * light Response and Headers (--fast-fetch) before any app code sees them, preload
 * `--import` modules, then load the app. Fails early, with the ways out, for
 * TypeScript on a Node that cannot run it.
 */
export async function bootApp(spec: {
  app: string | undefined;
  code: string | undefined;
  imports: readonly string[];
  cwd: string;
  fastClasses: boolean;
}): Promise<LoadedApp> {
  if (spec.fastClasses) installFastClasses();
  if (spec.code === undefined) {
    const file = resolveAppFile(spec.app, spec.cwd);
    if (isTypeScript(file) && typeScriptSupport() === 'none' && spec.imports.length === 0) throw new AppLoadError(typeScriptHelp(file));
  }
  await preload(spec.imports, spec.cwd);
  return loadApp(spec);
}
