// Errors thrown by simulated system calls. They look like Node's own system errors
// (`err.code === 'EINVAL'`, negative `err.errno`, `err.syscall`), so callers can handle a
// simulated failure exactly as they would a real one.

/** errno -> [code name, description], for every errno the simulator raises. */
const ERRNO_NAMES: Readonly<Record<number, readonly [string, string]>> = {
  1: ['EPERM', 'operation not permitted'],
  3: ['ESRCH', 'no such process'],
  5: ['EIO', 'i/o error'],
  9: ['EBADF', 'bad file descriptor'],
  12: ['ENOMEM', 'not enough memory'],
  14: ['EFAULT', 'bad address in system call argument'],
  16: ['EBUSY', 'resource busy or locked'],
  17: ['EEXIST', 'file already exists'],
  19: ['ENODEV', 'no such device'],
  22: ['EINVAL', 'invalid argument'],
  28: ['ENOSPC', 'no space left on device'],
  95: ['EOPNOTSUPP', 'operation not supported'],
  133: ['EHWPOISON', 'memory page has hardware error'],
};

/** The code name of a positive errno ('EINVAL' for 22); 'UNKNOWN' when not in the table. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[Math.abs(errno)]?.[0] ?? 'UNKNOWN';
}

/** A failed simulated system call, shaped like Node's system errors. */
export class SystemError extends Error {
  /** The errno's name, e.g. 'EINVAL'. */
  readonly code: string;
  /** Negative, as in Node: -22 for EINVAL. */
  readonly errno: number;
  /** The simulated system call that failed, e.g. 'mmap'. */
  readonly syscall: string;

  /**
   * @param errno the errno, positive or negative
   * @param syscall the call that failed
   * @param detail why, in words (added to the message)
   */
  constructor(errno: number, syscall: string, detail?: string) {
    const positive = Math.abs(errno);
    const [code, description] = ERRNO_NAMES[positive] ?? ['UNKNOWN', `unknown error ${positive}`];
    super(`${code}: ${description}, ${syscall}${detail ? ` (${detail})` : ''}`);
    this.name = 'SystemError';
    this.code = code;
    this.errno = -positive;
    this.syscall = syscall;
  }
}

/**
 * A SystemError for `errno` (positive or negative) raised by `syscall`, e.g.
 * `sysError(EINVAL, 'mmap', 'length must be > 0')` has the message
 * `EINVAL: invalid argument, mmap (length must be > 0)`.
 */
export function sysError(errno: number, syscall: string, detail?: string): SystemError {
  return new SystemError(errno, syscall, detail);
}

/** True for an error thrown by a simulated system call. */
export function isSystemError(err: unknown): err is SystemError {
  return err instanceof SystemError;
}
