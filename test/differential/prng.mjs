// A tiny seeded PRNG (mulberry32) with the helpers the generator needs.
// Deterministic: the same seed gives the same sequence on every platform.

export class Rng {
  constructor(seed) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next() {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n) {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }

  chance(p) {
    return this.next() < p;
  }

  pick(array) {
    return array[this.int(array.length)];
  }

  /** Picks from [[weight, value], ...]; a function value is called. */
  weighted(choices) {
    let total = 0;
    for (const [w] of choices) total += w;
    let r = this.next() * total;
    for (const [w, v] of choices) {
      r -= w;
      if (r < 0) return typeof v === 'function' ? v() : v;
    }
    const v = choices[choices.length - 1][1];
    return typeof v === 'function' ? v() : v;
  }

  /** A string of n characters drawn from `alphabet`. */
  string(alphabet, n) {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}
