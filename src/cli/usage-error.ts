// A mistake in how mfrsim was called (a bad flag value, a missing or unwritable output
// directory, two outputs on stdout): reported before any work, with exit status 2, apart
// from failures during the work (exit status 1).

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit statuses, documented in `mfrsim --help`. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
