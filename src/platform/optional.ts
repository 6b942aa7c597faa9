// Optional dependencies: the features that need a heavy or native package (rasdaemon's
// SQLite, the report's charts, worker threads, the job queue) load it on first use, so the
// library installs without them; a missing one is named, with the command that installs it.

/** Thrown when a feature needs an optional package that is not installed. */
export class MissingDependencyError extends Error {
  /** Always 'ERR_MFRSIM_MISSING_DEPENDENCY'. */
  readonly code = 'ERR_MFRSIM_MISSING_DEPENDENCY';

  /**
   * @param packageName the npm package to install
   * @param feature what needs it, in words ("HTML charts")
   */
  constructor(
    readonly packageName: string,
    readonly feature: string,
    options?: { cause?: unknown },
  ) {
    super(`${feature} needs the optional package "${packageName}", which is not installed: npm install ${packageName}`, options);
    this.name = 'MissingDependencyError';
  }
}

/** Node's error for an import of a package that is not installed (not one of its own files). */
function isMissingPackage(err: unknown, packageName: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND') return false;
  // "Cannot find package 'vega' imported from ...": quoted, so 'vega' does not match 'vega-util'.
  return typeof e.message === 'string' && (e.message.includes(`'${packageName}'`) || e.message.includes(`"${packageName}"`));
}

/**
 * Loads an optional package, or a module of mfrsim's that imports optional packages. `load`
 * is the literal `() => import('name')`, so that bundlers see the specifier; a missing package
 * among `packageNames` becomes a MissingDependencyError.
 */
export async function importOptional<T>(packageNames: string | readonly string[], feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    for (const name of typeof packageNames === 'string' ? [packageNames] : packageNames) {
      if (isMissingPackage(err, name)) throw new MissingDependencyError(name, feature, { cause: err });
    }
    throw err;
  }
}
