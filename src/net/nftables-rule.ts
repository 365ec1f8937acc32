// nf_tables rules as the kernel reports them (NFT_MSG_NEWRULE payloads), decoded
// only as far as a caller needs to recognise a rule: its chain, and per
// expression its name and attributes (payload offsets, compared bytes, a
// verdict's chain, an xtables target's name, revision and info). Anything
// else stays opaque bytes, so callers can refuse to vouch for what they do
// not know. Pure: kernel/nftables-rules.ts does the reading.
import { endianness } from 'node:os';

const NFTA_RULE_CHAIN = 2;
const NFTA_RULE_EXPRESSIONS = 4;
const NFTA_LIST_ELEM = 1;
const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;

// Netlink attribute headers are in host byte order; nf_tables values are big-endian.
const LE = endianness() === 'LE';
const readU16 = (b: Buffer, off: number) => (LE ? b.readUInt16LE(off) : b.readUInt16BE(off));

/** One expression of a rule: its name (payload, cmp, counter, immediate, target, ...) and raw attributes by type. */
export interface NftExpression {
  name: string;
  attrs: Map<number, Buffer>;
}

export interface NftRule {
  chain: string;
  exprs: NftExpression[];
}

/** Attributes of a buffer by type (the NESTED and BYTEORDER flags masked off); a later duplicate replaces an earlier one. */
export function attributes(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (const a of attributeList(buf)) out.set(a.type, a.value);
  return out;
}

/** Attributes of a buffer in order, for lists whose elements share one type. */
export function attributeList(buf: Buffer): Array<{ type: number; value: Buffer }> {
  const out: Array<{ type: number; value: Buffer }> = [];
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = readU16(buf, off);
    if (len < 4 || off + len > buf.length) break;
    out.push({ type: readU16(buf, off + 2) & 0x3fff, value: buf.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
}

/** A NUL-terminated netlink string attribute. */
export function attrString(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

/** Decodes NFT_MSG_NEWRULE payloads (after their 4-byte nfgenmsg). */
export function decodeRules(payloads: Buffer[]): NftRule[] {
  return payloads.map((p) => {
    const a = attributes(p.subarray(4));
    const exprs = attributeList(a.get(NFTA_RULE_EXPRESSIONS) ?? Buffer.alloc(0))
      .filter((e) => e.type === NFTA_LIST_ELEM)
      .map((e) => {
        const ea = attributes(e.value);
        return { name: attrString(ea.get(NFTA_EXPR_NAME)) ?? '', attrs: attributes(ea.get(NFTA_EXPR_DATA) ?? Buffer.alloc(0)) };
      });
    return { chain: attrString(a.get(NFTA_RULE_CHAIN)) ?? '', exprs };
  });
}

