// Private copies of small byte ranges, carved from shared slabs as
// Buffer.allocUnsafe carves its pool: making an ArrayBuffer costs far more
// than copying a few KiB. The engine copies what it reads out of the one
// buffer every socket reads into; a Response copies the bytes it is given.

const SLAB_SIZE = 64 * 1024;
/** Longer copies get a buffer of their own. */
const MAX_SHARED = SLAB_SIZE / 8;

let slab: Buffer | null = null;
let slabUsed = 0;

/** A copy of `bytes` that nothing else writes to. */
export function privateCopy(bytes: Uint8Array): Buffer {
  const length = bytes.byteLength;
  if (length > MAX_SHARED) {
    const own = Buffer.allocUnsafeSlow(length);
    own.set(bytes);
    return own;
  }
  if (slab === null || slabUsed + length > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabUsed = 0;
  }
  const copy = slab.subarray(slabUsed, slabUsed + length);
  copy.set(bytes);
  slabUsed += (length + 7) & ~7;
  return copy;
}
