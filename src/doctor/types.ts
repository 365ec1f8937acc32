// What doctor reports: one result per hop of the path, healthy or not.

export interface HopResult {
  /** Where on the path: a sandbox, an interface, a bridge, the host's netfilter, a probe. */
  hop: string;
  ok: boolean;
  /** The kernel object looked at: `link eth0 in web`, `sysctl net.ipv4.ip_forward`, `rule -t filter -A PLUMB-USER ...`. */
  object: string;
  /** ok: what the kernel shows; not ok: what is wrong. */
  detail: string;
  /** Why it breaks the path. */
  why?: string;
  /** The command that fixes it. */
  fix?: string;
}

export function ok(hop: string, object: string, detail: string): HopResult {
  return { hop, ok: true, object, detail };
}

export function broken(hop: string, object: string, detail: string, why: string, fix?: string): HopResult {
  return { hop, ok: false, object, detail, why, fix };
}

export function formatHop(r: HopResult): string {
  if (r.ok) return `ok    ${r.hop}: ${r.detail}`;
  const parts = [`FAIL  ${r.hop}: ${r.object}: ${r.detail}`];
  if (r.why) parts.push(`      why: ${r.why}`);
  if (r.fix) parts.push(`      fix: ${r.fix}`);
  return parts.join('\n');
}
