// One error type for address management, with a stable code for the engine and
// Docker's own wording in the message, so a learner can search for it.

export type IpamErrorCode =
  | 'INVALID_ADDRESS' // not an IPv4 address / CIDR
  | 'INVALID_CONFIG' // gateway, ip-range or aux address does not fit the subnet
  | 'POOL_OVERLAP' // a user subnet overlaps another network's
  | 'NO_POOL' // every default pool is taken
  | 'ADDRESS_IN_USE' // a requested address is already handed out or reserved
  | 'NOT_IN_SUBNET' // a requested address lies outside the network
  | 'NO_ADDRESS'; // the subnet (or ip-range) is full

export class IpamError extends Error {
  constructor(
    message: string,
    readonly code: IpamErrorCode,
  ) {
    super(message);
    this.name = 'IpamError';
  }
}
