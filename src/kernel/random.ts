// Random bytes for IDs and MACs, straight from the kernel (getrandom(2)
// through plumb's addon): Node's crypto module, which randomBytes needs,
// costs a plumb process ~4 ms to load, and nothing else in a run needs it.
import { native } from './native.js';

export function randomBytes(length: number): Buffer {
  return native().getrandom(length);
}
