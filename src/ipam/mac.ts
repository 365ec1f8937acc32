// Container MAC addresses. Docker 20.10 derives them from the IPv4 address:
// 02 (locally administered, unicast) + 42 + the four address bytes, so a
// learner can read 172.17.0.2 straight out of 02:42:ac:11:00:02.

import { ipToInt } from './cidr.js';

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
