// Helpers for the trace tests: temporary files, ChampSim records, and reading a trace back
// as plain event objects.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { TraceFormatError } from '../src/traces/errors.js';
import { openTrace } from '../src/traces/open.js';
import type { OpenTraceOptions } from '../src/traces/types.js';

export interface Event {
  addr: number;
  kind: number;
  size: number;
  time: number;
  weight: number;
  pageSize: number;
}

/** A fresh directory, removed when the process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mfrsim-traces-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeFile(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Every event of a trace, copied out of the reused batches. */
export async function readEvents(path: string, options: OpenTraceOptions = {}): Promise<Event[]> {
  const events: Event[] = [];
  for await (const b of await openTrace(path, options)) {
    for (let i = 0; i < b.length; i++) {
      events.push({ addr: b.addr[i], kind: b.kind[i], size: b.size[i], time: b.time[i], weight: b.weight[i], pageSize: b.pageSize[i] });
    }
  }
  return events;
}

/** An event with the defaults of a trace that has no size, time, weight or page-size column. */
export function ev(addr: number, kind: number, time: number, extra: Partial<Event> = {}): Event {
  return { addr, kind, size: 0, time, weight: 1, pageSize: 0, ...extra };
}

/** Asserts that reading the trace fails at `line` with a reason matching `reason`. */
export async function assertTraceError(
  path: string,
  options: OpenTraceOptions,
  line: number,
  reason: RegExp,
): Promise<void> {
  try {
    await readEvents(path, options);
  } catch (err) {
    assert.instance(err, TraceFormatError);
    const e = err as TraceFormatError;
    assert.is(e.file, path);
    assert.is(e.line, line, `line of: ${e.message}`);
    assert.match(e.reason, reason);
    assert.is(e.message, line > 0 ? `${path}:${line}: ${e.reason}` : `${path}: ${e.reason}`);
    return;
  }
  assert.unreachable(`reading ${path} should have failed`);
}

export interface ChampsimInstruction {
  ip?: number;
  isBranch?: number;
  taken?: number;
  destMem?: number[];
  srcMem?: number[];
}

/** One 64-byte ChampSim input_instr record. */
export function champsimRecord(instr: ChampsimInstruction): Buffer {
  const record = Buffer.alloc(64);
  record.writeBigUInt64LE(BigInt(instr.ip ?? 0x401000), 0);
  record[8] = instr.isBranch ?? 0;
  record[9] = instr.taken ?? 0;
  (instr.destMem ?? []).forEach((a, i) => record.writeBigUInt64LE(BigInt(a), 16 + 8 * i));
  (instr.srcMem ?? []).forEach((a, i) => record.writeBigUInt64LE(BigInt(a), 32 + 8 * i));
  return record;
}

/** Whether an executable is on PATH. */
export function hasTool(name: string, versionFlag = '--version'): boolean {
  try {
    execFileSync(name, [versionFlag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Compresses `path` with the xz tool into `path.xz`; returns the new path. */
export function xzCompress(path: string): string {
  execFileSync('xz', ['-k', '-f', path]);
  return `${path}.xz`;
}
