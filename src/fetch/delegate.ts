// Making a light class pass for a platform class (Request, Response,
// Headers): its prototype chains to the platform's, so `instanceof` holds,
// and every member of the platform prototype that the light class does not
// implement is defined to act on the full object (a real one, or another
// light one that has the member), built on demand. Nothing the platform
// offers (now, or in a later Node) is missing from the light object.

export function inheritPlatformMembers<T extends object>(
  light: { prototype: T },
  platform: { prototype: object },
  full: (self: T) => object,
): void {
  Object.setPrototypeOf(light.prototype, platform.prototype);
  // Symbol-keyed members too: Symbol.iterator (Headers), util.inspect's hook.
  for (const name of Reflect.ownKeys(platform.prototype)) {
    if (name === 'constructor' || Object.prototype.hasOwnProperty.call(light.prototype, name)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(platform.prototype, name)!;
    if (typeof descriptor.value === 'function') {
      Object.defineProperty(light.prototype, name, {
        ...descriptor,
        value(this: T, ...args: unknown[]) {
          const target = full(this) as Record<PropertyKey, (...args: unknown[]) => unknown>;
          return target[name]!(...args);
        },
      });
    } else if (descriptor.get !== undefined) {
      Object.defineProperty(light.prototype, name, {
        ...descriptor,
        get(this: T) {
          return (full(this) as Record<PropertyKey, unknown>)[name];
        },
      });
    }
  }
}
