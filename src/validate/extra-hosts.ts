// `--add-host name:ip`: Docker 20.10's rules and texts (split at the first
// ':' so IPv6 works; `host-gateway` is a literal), plus a name that stays one
// word of one /etc/hosts line.
import { isIp } from '../net/address.js';
import { InputError } from './errors.js';
import { hasControlChars, quote } from './text.js';

export interface ExtraHost {
  name: string;
  /** An IP address, or the literal `host-gateway`. */
  ip: string;
}

export const HOST_GATEWAY = 'host-gateway';

export function parseExtraHost(value: string): ExtraHost {
  const i = value.indexOf(':');
  if (i <= 0) throw new InputError(`bad format for add-host: ${quote(value)}`);
  const name = value.slice(0, i);
  const rawIp = value.slice(i + 1);
  if (hasControlChars(value)) {
    throw new InputError(`bad format for add-host: ${quote(value)}: control characters (newline, tab, ...) are not allowed`);
  }
  if (/\s/.test(name)) throw new InputError(`bad format for add-host: ${quote(value)}: the host name cannot contain spaces`);
  if (rawIp === HOST_GATEWAY) return { name, ip: rawIp };
  const ip = rawIp.trim();
  if (ip.includes('%') || !isIp(ip)) throw new InputError(`invalid IP address in add-host: ${quote(rawIp)}`);
  return { name, ip };
}

/** The form the store keeps: `name:ip`. */
export function formatExtraHost(h: ExtraHost): string {
  return `${h.name}:${h.ip}`;
}

/**
 * The entries as /etc/hosts gets them: `host-gateway` stands for the host's
 * address on the default bridge (Docker's default host-gateway-ip). Without
 * one, such entries are left out rather than written as a name that no
 * resolver can read as an address.
 */
export function resolveHostGateway(entries: readonly string[], gatewayIp: string | undefined): string[] {
  return entries.flatMap((e) => {
    const h = parseExtraHost(e);
    if (h.ip !== HOST_GATEWAY) return [e];
    return gatewayIp ? [formatExtraHost({ name: h.name, ip: gatewayIp })] : [];
  });
}
