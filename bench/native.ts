// The replay benchmark's native baseline: bench/native/replay.c, built with gcc -O2 into a
// temporary folder, replays the events a kernel instance holds in its columns over a dump of
// that instance's linear memory, with the fast path of assembly/replay.ts. It counts
// fast-path and slow-path events, which must equal the kernel's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelExports } from '../src/kernel/kernel.js';

const SOURCE = fileURLToPath(new URL('./native/replay.c', import.meta.url));
/** u32 fields of the kernel's layout block (assembly/layout.ts), in the order replay.c reads them. */
const LAYOUT_FIELDS = 9;

let dir: string | undefined;
let binary: string | null | undefined;

function workDir(): string {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'mfrsim-native-'));
    const made = dir;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return dir;
}

/** The compiled baseline, or null (said on stderr once) where gcc is missing or fails. */
export function nativeReplay(): string | null {
  if (binary !== undefined) return binary;
  try {
    const out = join(workDir(), 'replay');
    execFileSync('gcc', ['-O2', '-o', out, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    binary = out;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gcc not found' : String((err as { stderr?: Buffer }).stderr ?? err).split('\n')[0];
    process.stderr.write(`bench: no native baseline (${why}); the C columns of the replay figures are left out\n`);
    binary = null;
  }
  return binary;
}

export interface NativeRun {
  /** Median over the rounds of the C loop's time per event. */
  nsPerEvent: number;
  fast: number;
  slow: number;
}

/** A dump of the kernel's linear memory (columns written) and the layout the C loop needs. */
export interface MemoryDump {
  file: string;
  layout: number[];
}

export function dumpMemory(k: KernelExports, name: string): MemoryDump {
  const at = k.replay_native_layout();
  const layout = Array.from(new Uint32Array(k.memory.buffer, at, LAYOUT_FIELDS));
  const file = join(workDir(), `${name}.mem`);
  writeFileSync(file, new Uint8Array(k.memory.buffer));
  return { file, layout };
}

/** Runs the C loop over `events` events of the dump: one warm-up, then `rounds` timed. */
export function runNative(exe: string, dump: MemoryDump, events: number, rounds: number): NativeRun {
  const out = execFileSync(exe, [dump.file, String(events), String(rounds), ...dump.layout.map(String)], { encoding: 'utf8' });
  return JSON.parse(out) as NativeRun;
}
