// Public surface of ipam/: pure address logic, no I/O.
export * from './errors.js';
export * from './cidr.js';
export * from './pools.js';
export * from './allocator.js';
export * from './mac.js';
export * from './ids.js';
