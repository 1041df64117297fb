// Making a light class pass for a platform class (Request, Response): its
// prototype chains to the platform's, so `instanceof` holds, and every member
// of the platform prototype that the light class does not implement is
// defined to act on the real object, built on demand. Nothing the platform
// offers (now, or in a later Node) is missing from the light object.

export function inheritPlatformMembers<T extends object>(
  light: { prototype: T },
  platform: { prototype: object },
  real: (self: T) => object,
): void {
  Object.setPrototypeOf(light.prototype, platform.prototype);
  // Symbol-keyed members too: Symbol.iterator (Headers), util.inspect's hook.
  for (const name of Reflect.ownKeys(platform.prototype)) {
    if (name === 'constructor' || Object.prototype.hasOwnProperty.call(light.prototype, name)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(platform.prototype, name)!;
    if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(light.prototype, name, {
        ...descriptor,
        value(this: T, ...args: unknown[]) {
          return method.apply(real(this), args);
        },
      });
    } else if (descriptor.get !== undefined) {
      const get = descriptor.get;
      Object.defineProperty(light.prototype, name, {
        ...descriptor,
        get(this: T) {
          return get.call(real(this));
        },
      });
    }
  }
}
