// Object IDs like Docker's: 32 random bytes as 64 hex characters, shown
// shortened to 12. Docker re-draws an ID whose short form is all digits, so it
// can never be mistaken for a number; plumb does the same. Pure: the random
// bytes come from the caller (the kernel's getrandom in plumb, fixed bytes in tests).

/** A source of random bytes (kernel/random.ts in plumb). */
export type RandomBytes = (length: number) => Uint8Array;

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export const SHORT_ID_LENGTH = 12;

export function randomId(random: RandomBytes): string {
  for (;;) {
    const id = hex(random(32));
    if (!/^\d+$/.test(shortId(id))) return id;
  }
}

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

export function isFullId(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text);
}

/** Named forms, so call sites say what they create; all are the same kind of ID, as in Docker. */
export const newNetworkId = randomId;
export const newContainerId = randomId;
export const newEndpointId = randomId;
