// compareCodeUnits stands in for localeCompare on creation times, hex IDs and
// protocol names: for those it must give localeCompare's order exactly.
import { describe, expect, it } from 'vitest';
import { compareCodeUnits } from '../../src/store/order.js';

/** A deterministic spread of values (no randomness: a failure must repeat). */
function spread<T>(n: number, make: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => make((i * 7919) % n));
}

const sign = (x: number) => Math.sign(x);

describe('compareCodeUnits orders machine-made texts as localeCompare does', () => {
  const times = spread(200, (i) => new Date(Date.UTC(2020, 0, 1) + i * 37_123_457).toISOString());
  // RFC 3339 with nanoseconds, trailing zeros dropped as Go prints them, and whole seconds.
  const nanos = spread(60, (i) => `2026-12-07T12:0${i % 10}:0${i % 7}${i % 3 ? `.${String(i * 1234567).replace(/0+$/, '')}` : ''}Z`);
  const ids = spread(200, (i) => (i * 2654435761).toString(16).padStart(12, '0').slice(0, 12));
  const protos = ['udp', 'tcp', 'sctp', 'tcp'];

  it.each([
    ['ISO times', times],
    ['RFC 3339 times of mixed precision', nanos],
    ['hex IDs', ids],
    ['protocols', protos],
  ])('%s', (_what, values) => {
    for (const a of values) for (const b of values) expect(sign(compareCodeUnits(a, b))).toBe(sign(a.localeCompare(b)));
  });
});
