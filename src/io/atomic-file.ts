// Every file mfrsim writes appears whole or not at all: it is written under a temporary
// name in the target's directory and renamed over the target only once complete (rename(2)
// is atomic within a filesystem). A run that fails, or is stopped by a signal, removes its
// temporary file and leaves any old target as it was. SIGKILL cannot be caught: it leaves the
// hidden temporary file (`.NAME.PID-N.partial`), never a truncated NAME, and the next run that
// writes NAME removes it.
import { constants, unlinkSync } from 'node:fs';
import { open, readdir, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { onExit } from 'signal-exit';

/** Temporary files not yet renamed or removed, for the exit and signal handler. */
const pending = new Set<string>();
let exitHandlerInstalled = false;
let counter = 0;

function removePendingSync(): void {
  for (const path of pending) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
  pending.clear();
}

function partialName(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}-${threadId}-${++counter}.partial`);
}

/** Removes the partial files of earlier runs, for this target, whose process is gone. */
async function removeStalePartials(target: string): Promise<void> {
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.partial')) continue;
    const pid = Number(/^(\d+)-\d+-\d+$/.exec(name.slice(prefix.length, -'.partial'.length))?.[1]);
    if (!Number.isInteger(pid) || processAlive(pid)) continue;
    await rm(join(dirname(target), name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A file being written: write through `handle` (positioned writes are fine), then `commit()`
 * renames it over the target, or `discard()` removes it. Until then the target is untouched.
 */
export class AtomicFile {
  private done = false;

  private constructor(
    readonly target: string,
    readonly tempPath: string,
    readonly handle: FileHandle,
  ) {}

  static async create(target: string): Promise<AtomicFile> {
    if (!exitHandlerInstalled) {
      onExit(() => removePendingSync());
      exitHandlerInstalled = true;
    }
    await removeStalePartials(target);
    const tempPath = partialName(target);
    // O_EXCL: never write through a name someone else made (a link planted in the directory).
    const handle = await open(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
    pending.add(tempPath);
    return new AtomicFile(target, tempPath, handle);
  }

  /** Flushes to disk and renames the file over the target. */
  async commit(): Promise<void> {
    if (this.done) throw new Error(`${this.target}: already committed or discarded`);
    this.done = true;
    try {
      await this.handle.sync();
      await this.handle.close();
      await rename(this.tempPath, this.target);
    } catch (err) {
      await unlink(this.tempPath).catch(() => undefined);
      throw err;
    } finally {
      pending.delete(this.tempPath);
    }
  }

  /** Closes and removes the temporary file; the target stays as it was. */
  async discard(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await rm(this.tempPath, { force: true });
    pending.delete(this.tempPath);
  }
}

/**
 * Writes several whole files so that either all of them appear or none: every one is written
 * to its temporary file first, and only then are they renamed, one after another.
 */
export async function writeFilesAtomically(files: readonly { target: string; data: string }[]): Promise<void> {
  const opened: AtomicFile[] = [];
  try {
    for (const f of files) {
      const file = await AtomicFile.create(f.target);
      opened.push(file);
      await file.handle.writeFile(f.data);
    }
  } catch (err) {
    await Promise.all(opened.map((f) => f.discard()));
    throw err;
  }
  for (const f of opened) await f.commit();
}
