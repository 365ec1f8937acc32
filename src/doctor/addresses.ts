// IPv4 arithmetic the path walk needs: containment and longest-prefix routes.
import type { RouteInfo } from '../kernel/rtnl.js';

export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return NaN;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function isIpv4(s: string): boolean {
  return !Number.isNaN(ipToInt(s));
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, len] = cidr.split('/');
  const bits = Number(len ?? 32);
  const b = ipToInt(base!);
  const x = ipToInt(ip);
  if (Number.isNaN(b) || Number.isNaN(x)) return false;
  if (bits === 0) return true;
  const mask = (~0 << (32 - bits)) >>> 0;
  return ((b & mask) >>> 0) === ((x & mask) >>> 0);
}

/** The route the kernel's main table would pick for `ip` (unicast routes only; local addresses are not in main). */
export function lookupRoute(routes: RouteInfo[], ip: string): RouteInfo | undefined {
  let best: RouteInfo | undefined;
  let bestLen = -1;
  for (const r of routes) {
    if (r.type !== 1) continue;
    const cidr = r.dst === 'default' ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    const len = Number(cidr.split('/')[1]);
    if (!cidrContains(cidr, ip)) continue;
    if (len > bestLen || (len === bestLen && (r.metric ?? 0) < (best?.metric ?? 0))) {
      best = r;
      bestLen = len;
    }
  }
  return best;
}
