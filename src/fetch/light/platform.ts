// The platform's Request, Response and Headers, loaded on first need, and the
// light classes that pass for them (FastResponse, FastHeaders, ServerRequest,
// RequestHeaders).
//
// Node 20 loads its fetch implementation (undici: about 12 MB and 35 ms of a
// worker's start) on the first read of these globals, and an app served
// through the light classes may never need it. So, until something does:
// - each light class's prototype chains to a stand-in, where a lookup of a
//   member the light class lacks loads the platform first, then answers;
// - `instanceof` compares light objects with light classes only, since no
//   platform object can exist yet: every way to one (the globals `Request`,
//   `Response`, `Headers` and `fetch`) is wrapped to load through here.
// Loading links every light class to its platform class: its prototype chains
// to the platform's, and each platform member it lacks acts on a full object
// built on demand. From then on `instanceof` holds both ways, and nothing the
// platform offers (now, or in a later Node) is missing from a light object.
//
// Where the runtime's globals are not lazy getters (Node 24, where even reading
// their descriptor loads them), the platform is loaded at once and every light
// class is linked as it is declared.

export type PlatformName = 'Request' | 'Response' | 'Headers';
interface PlatformClasses {
  Request: typeof Request;
  Response: typeof Response;
  Headers: typeof Headers;
}

interface LightClass<T extends object> {
  prototype: T;
}
interface Link {
  name: PlatformName;
  light: LightClass<object>;
  full: (self: object) => object;
  /** The light class is installed as the global: its statics inherit the platform's too. */
  isGlobal: boolean;
}

const NAMES: readonly PlatformName[] = ['Request', 'Response', 'Headers'];
const links: Link[] = [];
let platform: PlatformClasses | null = null;

/** The runtime's lazy getters, taken before anything replaces them; null where the globals are plain values. */
const lazyGetters = takeLazyGetters();

function takeLazyGetters(): Map<PlatformName, () => unknown> | null {
  const getters = new Map<PlatformName, () => unknown>();
  for (const name of NAMES) {
    const get = Object.getOwnPropertyDescriptor(globalThis, name)?.get;
    if (get === undefined) return null;
    getters.set(name, get);
  }
  return getters;
}

/** The platform's class `name`, loading the platform (and linking every light class to it) on first use. */
export function platformClass<N extends PlatformName>(name: N): PlatformClasses[N] {
  return ensureLoaded()[name];
}

function ensureLoaded(): PlatformClasses {
  return (platform ??= loadPlatform());
}

/** `value instanceof` the platform class `name`, light objects included, without loading the platform. */
export function isPlatformInstance(name: PlatformName, value: unknown): boolean {
  if (platform !== null) return Function.prototype[Symbol.hasInstance].call(platform[name], value);
  for (const link of links) {
    if (link.name === name && Object.prototype.isPrototypeOf.call(link.light.prototype, value as object)) return true;
  }
  return false;
}

/**
 * Makes `light` pass for the platform class `name`: at once if the platform is
 * loaded, else when it is (a stand-in answers until then). `full` gives the
 * object that a platform member the light class lacks acts on.
 */
export function passForPlatform<T extends object>(
  name: PlatformName,
  light: LightClass<T>,
  full: (self: T) => object,
  options: { isGlobal: boolean },
): void {
  const link: Link = { name, light, full: full as (self: object) => object, isGlobal: options.isGlobal };
  links.push(link);
  if (platform !== null) linkToPlatform(link, platform);
  else Object.setPrototypeOf(light.prototype, standIn(light));
}

/** Where lookups that miss a light prototype land before the platform is loaded. */
function standIn(light: LightClass<object>): object {
  return new Proxy(Object.create(null) as object, {
    get(_target, key, receiver) {
      // Awaiting a light object looks for then(), which no platform class has: no load for that.
      if (key === 'then') return undefined;
      ensureLoaded();
      return Reflect.get(light.prototype, key, receiver);
    },
    has(_target, key) {
      if (key === 'then') return false;
      ensureLoaded();
      return Reflect.has(light.prototype, key);
    },
  });
}

function linkToPlatform(link: Link, classes: PlatformClasses): void {
  const target = classes[link.name];
  const { prototype } = link.light;
  const { full } = link;
  Object.setPrototypeOf(prototype, target.prototype);
  if (link.isGlobal) Object.setPrototypeOf(link.light, target);
  // Symbol-keyed members too: Symbol.iterator (Headers), util.inspect's hook.
  for (const key of Reflect.ownKeys(target.prototype)) {
    if (key === 'constructor' || Object.prototype.hasOwnProperty.call(prototype, key)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(target.prototype, key)!;
    if (typeof descriptor.value === 'function') {
      Object.defineProperty(prototype, key, {
        ...descriptor,
        value(this: object, ...args: unknown[]) {
          return (full(this) as Record<PropertyKey, (...args: unknown[]) => unknown>)[key]!(...args);
        },
      });
    } else if (descriptor.get !== undefined) {
      Object.defineProperty(prototype, key, {
        ...descriptor,
        get(this: object) {
          return (full(this) as Record<PropertyKey, unknown>)[key];
        },
      });
    }
  }
}

/** Reads the runtime's lazy getters (which load undici), keeps the globals as they were, and links every light class. */
function loadPlatform(): PlatformClasses {
  const getters = lazyGetters!;
  const classes = {} as Record<PlatformName, unknown>;
  for (const name of NAMES) {
    const current = Object.getOwnPropertyDescriptor(globalThis, name);
    // The runtime's getter makes the global its class; one the worker installed (FastResponse) stays.
    classes[name] = getters.get(name)!.call(globalThis);
    if (current === undefined) delete (globalThis as Record<string, unknown>)[name];
    else if (!wrappers.has(current.get)) Object.defineProperty(globalThis, name, current);
  }
  if (globalThis.fetch === fetchWrapper) globalThis.fetch = nativeFetch;
  for (const link of links) linkToPlatform(link, classes as unknown as PlatformClasses);
  return classes as unknown as PlatformClasses;
}

const wrappers = new Set<unknown>();
const nativeFetch = globalThis.fetch;
function fetchWrapper(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  ensureLoaded();
  return nativeFetch(input, init);
}

/** The globals that lead to platform objects load them through platformClass(), so that light classes are linked first. */
function wrapLazyGlobals(): void {
  for (const name of NAMES) {
    const { enumerable } = Object.getOwnPropertyDescriptor(globalThis, name)!;
    const get = () => platformClass(name);
    wrappers.add(get);
    Object.defineProperty(globalThis, name, {
      configurable: true,
      enumerable,
      get,
      set(value: unknown) {
        Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable });
      },
    });
  }
  if (typeof nativeFetch === 'function') {
    Object.defineProperty(fetchWrapper, 'name', { value: 'fetch' });
    globalThis.fetch = fetchWrapper as typeof fetch;
  }
}

if (lazyGetters === null) {
  platform = { Request: globalThis.Request, Response: globalThis.Response, Headers: globalThis.Headers };
} else {
  wrapLazyGlobals();
}
