// Random bytes from getrandom(2) through the addon (kernel/random.ts), as IDs and MACs draw them.
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/kernel/random.js';

describe('randomBytes', () => {
  it('returns exactly the bytes asked for, different each time', () => {
    expect(randomBytes(0)).toHaveLength(0);
    expect(randomBytes(32)).toHaveLength(32);
    expect(randomBytes(100_000)).toHaveLength(100_000);
    const draws = new Set(Array.from({ length: 50 }, () => randomBytes(16).toString('hex')));
    expect(draws.size).toBe(50);
  });

  it('is not all zeros (the buffer is filled, not just allocated)', () => {
    const b = randomBytes(4096);
    expect(b.some((x) => x !== 0)).toBe(true);
    // Every byte value shows up in 4 KiB of random data, all but surely.
    expect(new Set(b).size).toBeGreaterThan(200);
  });
});
