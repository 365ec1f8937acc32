// `--mac-address`: a 48-bit address in any form Go's net.ParseMAC reads
// (`aa:bb:cc:dd:ee:ff`, `aa-bb-..`, `aabb.ccdd.eeff`), surrounding blanks
// ignored, that the kernel accepts on an interface: unicast, not all zeros.
// Docker's text: `x is not a valid mac address`.
import { InputError } from './errors.js';
import { hasControlChars } from './text.js';

const COLON_MAC = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;
const DASH_MAC = /^[0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){5}$/;
const DOT_MAC = /^[0-9a-fA-F]{4}(?:\.[0-9a-fA-F]{4}){2}$/;

/** Returns the address lower-case with colons, or throws naming what is wrong. */
export function validateContainerMac(text: string): string {
  const t = text.trim();
  let hex = '';
  if (!hasControlChars(text)) {
    if (COLON_MAC.test(t) || DASH_MAC.test(t)) hex = t.replace(/[:-]/g, '');
    else if (DOT_MAC.test(t)) hex = t.replaceAll('.', '');
  }
  if (!hex) throw new InputError(`${JSON.stringify(text).slice(1, -1)} is not a valid mac address`);
  const mac = hex.toLowerCase().match(/../g)!.join(':');
  if (parseInt(hex.slice(0, 2), 16) & 1) throw new InputError(`${mac} is not a valid mac address for an interface: it is a multicast address (the lowest bit of the first byte is set)`);
  if (/^0+$/.test(hex)) throw new InputError(`${mac} is not a valid mac address for an interface: it is all zeros`);
  return mac;
}
