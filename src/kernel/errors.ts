// Kernel failures as one error type with a symbolic code. The netlink package
// prints errnos it does not know as bare numbers, so plumb keeps its own table.

const ERRNO_NAMES: Record<number, [code: string, text: string]> = {
  1: ['EPERM', 'operation not permitted'],
  2: ['ENOENT', 'no such file or directory'],
  3: ['ESRCH', 'no such process'],
  4: ['EINTR', 'interrupted'],
  6: ['ENXIO', 'no such device or address'],
  9: ['EBADF', 'bad file descriptor'],
  11: ['EAGAIN', 'resource temporarily unavailable'],
  12: ['ENOMEM', 'out of memory'],
  13: ['EACCES', 'permission denied'],
  16: ['EBUSY', 'device or resource busy'],
  17: ['EEXIST', 'already exists'],
  19: ['ENODEV', 'no such device'],
  22: ['EINVAL', 'invalid argument'],
  23: ['ENFILE', 'too many open files in system'],
  24: ['EMFILE', 'too many open files'],
  28: ['ENOSPC', 'no space left on device'],
  34: ['ERANGE', 'result out of range'],
  54: ['EXFULL', 'exchange full (the bridge has no free port)'],
  61: ['ENODATA', 'no data available'],
  67: ['ENOLINK', 'link has been severed'],
  71: ['EPROTO', 'protocol error'],
  75: ['EOVERFLOW', 'value too large'],
  90: ['EMSGSIZE', 'message too long'],
  93: ['EPROTONOSUPPORT', 'protocol not supported (kernel module missing?)'],
  95: ['EOPNOTSUPP', 'operation not supported'],
  97: ['EAFNOSUPPORT', 'address family not supported'],
  98: ['EADDRINUSE', 'address already in use'],
  99: ['EADDRNOTAVAIL', 'cannot assign requested address'],
  100: ['ENETDOWN', 'network is down'],
  101: ['ENETUNREACH', 'network is unreachable'],
  105: ['ENOBUFS', 'no buffer space available'],
  110: ['ETIMEDOUT', 'timed out'],
  113: ['EHOSTUNREACH', 'no route to host'],
  // Kernel-internal "not supported" that some drivers let escape through netlink.
  524: ['ENOTSUPP', 'operation not supported'],
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[Math.abs(errno)]?.[0] ?? `E${Math.abs(errno)}`;
}

export function errnoText(errno: number): string {
  return ERRNO_NAMES[Math.abs(errno)]?.[1] ?? `errno ${Math.abs(errno)}`;
}

export function errnoFromCode(code: string): number | undefined {
  for (const [num, [name]] of Object.entries(ERRNO_NAMES)) if (name === code) return Number(num);
  return undefined;
}

export class KernelError extends Error {
  constructor(
    message: string,
    /** Symbolic errno (EEXIST, ENODEV, ...) or another short code. */
    readonly code: string,
    readonly errno?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KernelError';
  }

  /** Wraps any failure with what plumb was doing; keeps the errno code when there is one. */
  static from(err: unknown, doing: string): KernelError {
    if (err instanceof KernelError) return err;
    const e = err as { code?: unknown; errno?: unknown; message?: string };
    let errno = typeof e?.errno === 'number' ? Math.abs(e.errno) : undefined;
    let code = typeof e?.code === 'string' ? e.code : errno !== undefined ? errnoName(errno) : 'EUNKNOWN';
    if (errno === undefined) errno = errnoFromCode(code);
    if (code === 'EUNKNOWN' && errno !== undefined) code = errnoName(errno);
    const text = errno !== undefined ? errnoText(errno) : e?.message ?? String(err);
    return new KernelError(`${doing}: ${text}`, code, errno, { cause: err });
  }
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof Object && codes.includes((err as { code?: string }).code ?? '');
}
