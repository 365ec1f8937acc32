// Container MAC addresses. Docker 20.10 derives them from the IPv4 address:
// 02 (locally administered, unicast) + 42 + the four address bytes, so a
// learner can read 172.17.0.2 straight out of 02:42:ac:11:00:02.

import { ipToInt } from './cidr.js';
import { IpamError } from './errors.js';

export function macFromIp(ip: string): string {
  const v = ipToInt(ip);
  const bytes = [0x02, 0x42, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const COLON_MAC = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;
const DASH_MAC = /^[0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){5}$/;

/** Accepts the 48-bit forms a user types (`aa:bb:..` or `aa-bb-..`). */
export function isValidMac(text: string): boolean {
  return COLON_MAC.test(text) || DASH_MAC.test(text);
}

/** Lower-case, colon-separated; throws with Docker's `--mac-address` wording. */
export function normalizeMac(text: string): string {
  const trimmed = text.trim();
  if (!isValidMac(trimmed)) throw new Error(`${text} is not a valid mac address`);
  return trimmed.toLowerCase().replaceAll('-', ':');
}

/** Multicast MACs (lowest bit of the first byte set) cannot be an interface address. */
export function isUnicastMac(text: string): boolean {
  return (parseInt(normalizeMac(text).slice(0, 2), 16) & 1) === 0;
}

const DOT_MAC = /^[0-9a-fA-F]{4}(?:\.[0-9a-fA-F]{4}){2}$/;

/**
 * `--mac-address`: a 48-bit address in any form Go's net.ParseMAC reads
 * (`aa:bb:cc:dd:ee:ff`, `aa-bb-..`, `aabb.ccdd.eeff`), surrounding blanks
 * ignored, that the kernel accepts on an interface: unicast, not all zeros.
 * Returns it lower-case with colons. Docker's text: `x is not a valid mac address`.
 */
export function validateContainerMac(text: string): string {
  const t = text.trim();
  let hex: string;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) hex = '';
  else if (isValidMac(t)) hex = t.replace(/[:-]/g, '');
  else if (DOT_MAC.test(t)) hex = t.replaceAll('.', '');
  else hex = '';
  if (!hex) throw new IpamError(`${JSON.stringify(text).slice(1, -1)} is not a valid mac address`, 'INVALID_ADDRESS');
  const mac = hex.toLowerCase().match(/../g)!.join(':');
  if (parseInt(hex.slice(0, 2), 16) & 1) throw new IpamError(`${mac} is not a valid mac address for an interface: it is a multicast address (the lowest bit of the first byte is set)`, 'INVALID_ADDRESS');
  if (/^0+$/.test(hex)) throw new IpamError(`${mac} is not a valid mac address for an interface: it is all zeros`, 'INVALID_ADDRESS');
  return mac;
}
