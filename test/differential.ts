// Differential testing of two SimHost implementations: random operation sequences run on
// both, and every result, error, signal, counter (THP memory's and the refcount underflows
// too), free list, kernel log line and the count of page-table pages must agree.
// A library: test files call runDifferential() with the two host factories.
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import type { HostOptions, HugepageSize, SimHost, SimProcess } from '../src/host/types.js';
import { BAD, memfdFlagsOf, mmapFlagsOf, type Op, type Scenario, scenarioArbitrary, UNIT } from './differential/ops.js';

export type { Op, Scenario } from './differential/ops.js';
export { scenarioArbitrary } from './differential/ops.js';

export type CreateHost = (opts?: HostOptions) => Promise<SimHost>;

export interface DifferentialOptions {
  /** Number of random scenarios. */
  runs: number;
  /** fast-check seed, for a reproducible run. */
  seed?: number;
  /** Longest random operation sequence (after the spawns). Default 40. */
  maxOps?: number;
}

/** Thrown (inside fast-check's report) when the hosts disagree. */
export class DifferentialMismatch extends Error {
  override name = 'DifferentialMismatch';
}

/** Runs `runs` random scenarios on hosts from both factories; rejects with the op sequence on any difference. */
export async function runDifferential(createA: CreateHost, createB: CreateHost, opts: DifferentialOptions): Promise<void> {
  const property = fc.asyncProperty(scenarioArbitrary(opts.maxOps), async (scenario) => {
    const mismatch = await compareScenario(createA, createB, scenario);
    if (mismatch !== null) throw new DifferentialMismatch(mismatch);
  });
  const details = await fc.check(property, { numRuns: opts.runs, ...(opts.seed === undefined ? {} : { seed: opts.seed }) });
  if (!details.failed) return;
  // The shrunk scenario's report, then how to replay it.
  const cause = details.errorInstance;
  const report = cause instanceof Error ? cause.message : String(cause);
  throw new DifferentialMismatch(
    `${report}\n(after ${details.numRuns} scenario(s), shrunk ${details.numShrinks} time(s); ` +
      `replay with fast-check { seed: ${details.seed}, path: "${details.counterexamplePath}" })`,
  );
}

type Side = 'a' | 'b';

interface FdInfo {
  fd: number;
  unit: HugepageSize;
}

interface MapInfo {
  addr: bigint;
  unit: HugepageSize;
}

/** A process as both hosts know it, with the fds and mappings the first host handed out. */
interface ProcPair {
  a: SimProcess;
  b: SimProcess;
  fds: FdInfo[];
  maps: MapInfo[];
}

/** One resolved operation: identical arguments for both sides. */
interface Step {
  text: string;
  run(side: Side): unknown;
  /** Records what the call returned (new processes, fds, mappings). */
  after?(a: unknown, b: unknown): void;
}

type Outcome = { value: unknown } | { error: string; errno: unknown } | { crash: string };

const BAD_FD = 99;
/** Far below every mapping the hosts place by themselves. */
const UNMAPPED = 0x1000_0000_0000n;
const FIXED_BASE = 0x6000_0000_0000n;
/** The end of the user address space (TASK_SIZE). */
const TOP = 0x7fff_ffff_f000;
const PHYS_BASE = 4 * 2 ** 30;
const PAGE = 4096;

/**
 * Runs one scenario on fresh hosts from both factories. Returns null when they agree, or a
 * report naming the first difference and the whole operation sequence.
 */
export async function compareScenario(
  createA: CreateHost,
  createB: CreateHost,
  scenario: Scenario,
  /** Receives one line per op (for debugging and for measuring what scenarios exercise). */
  trace: string[] = [],
): Promise<string | null> {
  const hosts: Record<Side, SimHost> = { a: await createA(scenario.host), b: await createB(scenario.host) };
  const procs: ProcPair[] = [];
  const report = (where: string, what: string) =>
    [`hosts differ ${where}: ${what}`, `host options: ${show(scenario.host)}`, 'ops:', ...trace.map((t) => `  ${t}`)].join('\n');

  const atBoot = firstDifference(observe(hosts.a, procs, 'a'), observe(hosts.b, procs, 'b'));
  if (atBoot) return report('at boot', atBoot);
  for (const [i, op] of scenario.ops.entries()) {
    const step = resolve(op, procs, hosts, scenario.host);
    if (!step) {
      trace.push(`#${i} ${op.op}: skipped (no process yet)`);
      continue;
    }
    let rawA: unknown;
    let rawB: unknown;
    const a = outcome(() => (rawA = step.run('a')));
    const b = outcome(() => (rawB = step.run('b')));
    trace.push(`#${i} ${step.text} -> ${show(a)}${isDeepStrictEqual(a, b) ? '' : ` | B: ${show(b)}`}`);
    if ('crash' in a || 'crash' in b) return report(`at op #${i}`, `a host threw a non-system error: A ${show(a)}, B ${show(b)}`);
    const diff = firstDifference({ result: a, ...observe(hosts.a, procs, 'a') }, { result: b, ...observe(hosts.b, procs, 'b') });
    if (diff) return report(`at op #${i}`, diff);
    if ('value' in a) step.after?.(rawA, rawB);
  }
  return null;
}

/** Everything observable on one host after an operation. */
function observe(host: SimHost, procs: readonly ProcPair[], side: Side) {
  const sizes: HugepageSize[] = ['2M', '1G'];
  return {
    panicked: host.panicked,
    hugepages: Object.fromEntries(sizes.map((s) => [s, host.hugepages(s)])),
    freeHugepages: Object.fromEntries(sizes.map((s) => [s, host.freeHugepages(s)])),
    memoryFailureStats: host.memoryFailureStats(),
    meminfo: host.meminfo(),
    kernelLog: host.kernelLog(),
    pageTablePages: host.pageTablePages(),
    refcountUnderflows: host.refcountUnderflows(),
    thp: host.thp(),
    processes: procs.map((pair) => {
      const p = pair[side];
      return { pid: p.pid, alive: p.alive, signals: [...p.signals] };
    }),
  };
}

/** A call's result, with system errors reduced to their code and errno. */
function outcome(fn: () => unknown): Outcome {
  try {
    const value = fn();
    // Processes are compared by what they show, not by identity.
    if (value && typeof value === 'object' && 'pid' in value) return { value: { pid: (value as SimProcess).pid } };
    return { value };
  } catch (err) {
    const e = err as { code?: unknown; errno?: unknown; message?: unknown };
    if (typeof e?.code === 'string' && typeof e.errno === 'number') return { error: e.code, errno: e.errno };
    return { crash: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

/** The k-th most recent element of `list` (0: the newest). */
function recent<T>(list: readonly T[], k: number): T | undefined {
  return list.length === 0 ? undefined : list[list.length - 1 - (k % list.length)];
}

/** Turns an op's small indices into concrete arguments, using what the first host returned. */
function resolve(op: Op, procs: ProcPair[], hosts: Record<Side, SimHost>, opts: HostOptions): Step | null {
  if (op.op === 'spawn') {
    return {
      text: `spawn(${show(op.opts)})`,
      run: (side) => hosts[side].spawn(op.opts),
      after: (a, b) => procs.push({ a: a as SimProcess, b: b as SimProcess, fds: [], maps: [] }),
    };
  }
  if (op.op === 'sysctl') {
    return {
      text: `sysctl(${op.name}${op.value === undefined ? '' : `, ${op.value}`})`,
      run: (side) => hosts[side].sysctl(op.name, op.value),
    };
  }
  if (op.op === 'injectUE') {
    const { phys, owner } = physicalAddress(op, procs, opts);
    const consumer = owner < 0 || op.consumer === 'none' ? -1 : op.consumer === 'self' ? owner : (owner + 1) % procs.length;
    return {
      text: `injectUE(0x${phys.toString(16)}${consumer >= 0 ? `, consumer p${consumer}` : ''})`,
      run: (side) => hosts[side].injectUE(phys, consumer >= 0 ? { consumer: procs[consumer]![side] } : {}),
    };
  }
  if (procs.length === 0) return null;
  // Ops on fds or mappings pick among the processes that have some, when any do.
  const needs = 'f' in op ? 'fds' : 'm' in op ? 'maps' : null;
  const candidates = needs ? procs.filter((x) => x[needs].length > 0) : [];
  const pair = candidates.length > 0 ? candidates[op.p % candidates.length]! : procs[op.p % procs.length]!;
  const pi = procs.indexOf(pair);
  const p = (side: Side) => pair[side];
  const fdAt = (f: number): FdInfo => (f === BAD ? undefined : recent(pair.fds, f)) ?? { fd: BAD_FD, unit: '2M' };
  const mapAt = (m: number): MapInfo => recent(pair.maps, m) ?? { addr: UNMAPPED, unit: '2M' };
  const at = `p${pi}`;
  const hex = (x: bigint) => `0x${x.toString(16)}`;

  switch (op.op) {
    case 'memfdCreate': {
      const flags = memfdFlagsOf(op);
      const unit: HugepageSize = op.size === '1G' ? '1G' : '2M';
      return {
        text: `${at}.memfdCreate(0x${flags.toString(16)})`,
        run: (side) => p(side).memfdCreate('fuzz', flags),
        after: (a) => void pair.fds.push({ fd: a as number, unit }),
      };
    }
    case 'ftruncate': {
      const { fd, unit } = fdAt(op.f);
      const size = op.pages * UNIT[unit] + op.extra;
      return { text: `${at}.ftruncate(${fd}, ${size})`, run: (side) => p(side).ftruncate(fd, size) };
    }
    case 'fallocate': {
      const { fd, unit } = fdAt(op.f);
      const off = op.off * UNIT[unit] + op.offExtra;
      const len = op.len * UNIT[unit] + op.lenExtra;
      return { text: `${at}.fallocate(${fd}, ${op.mode}, ${off}, ${len})`, run: (side) => p(side).fallocate(fd, op.mode, off, len) };
    }
    case 'mmap': {
      const flags = mmapFlagsOf(op);
      const file = fdAt(op.f);
      // A THP mapping is laid out in 2 MiB units whatever its size field says.
      const unit: HugepageSize = op.anon ? (op.huge1G && !op.thp ? '1G' : '2M') : file.unit;
      const fd = op.anon ? -1 : file.fd;
      const length = op.pages * UNIT[unit] - op.shave;
      const offset = op.offPages * UNIT[unit] + op.offExtra;
      const addr =
        op.place === 'any'
          ? 0n
          : op.place === 'fixed-taken'
            ? (recent(pair.maps, op.slot)?.addr ?? 0n)
            : FIXED_BASE + BigInt(op.slot) * BigInt(UNIT['1G']);
      return {
        text: `${at}.mmap(${hex(addr)}, ${length}, ${op.prot}, 0x${flags.toString(16)}, ${fd}, ${offset})`,
        run: (side) => p(side).mmap(addr, length, op.prot, flags, fd, offset),
        after: (a) => void pair.maps.push({ addr: a as bigint, unit }),
      };
    }
    case 'munmap': {
      const { addr: base, unit } = mapAt(op.m);
      const addr = base + BigInt(op.offPages * UNIT[unit]);
      const len = op.pages * UNIT[unit] + op.extra;
      return { text: `${at}.munmap(${hex(addr)}, ${len})`, run: (side) => p(side).munmap(addr, len) };
    }
    case 'read':
    case 'write': {
      const { addr: base, unit } = mapAt(op.m);
      const addr = base + BigInt(op.hugeIdx * UNIT[unit] + op.off);
      const kind = op.op;
      const opts = op.guest ? { guest: true } : undefined;
      return { text: `${at}.${kind}(${hex(addr)}, ${op.len}${op.guest ? ', guest' : ''})`, run: (side) => p(side)[kind](addr, op.len, opts) };
    }
    case 'madvise': {
      const { addr: base, unit } = mapAt(op.m);
      const addr = base + BigInt(op.hugeIdx * UNIT[unit] + op.raw * PAGE + (op.misalign ? 1 : 0));
      return { text: `${at}.madvise(${hex(addr)}, ${op.len}, ${op.advice})`, run: (side) => p(side).madvise(addr, op.len, op.advice) };
    }
    case 'pread': {
      const { fd } = fdAt(op.f);
      return { text: `${at}.pread(${fd}, ${op.len}, ${op.off})`, run: (side) => p(side).pread(fd, op.len, op.off) };
    }
    case 'translate': {
      const addr = mapAt(op.m).addr + BigInt(op.off);
      return { text: `${at}.translate(${hex(addr)})`, run: (side) => p(side).translate(addr) };
    }
    case 'pageTableLeaf': {
      const { addr: base, unit } = mapAt(op.m);
      const inside = op.hugeIdx * UNIT[unit] + (unit === '1G' ? op.region * UNIT['2M'] : 0) + op.off;
      // Unmapped: below every mapping the hosts place by themselves (or at the very top).
      const addr = op.where === 'mapped' ? base + BigInt(inside) : op.region % 2 === 0 ? UNMAPPED + BigInt(op.off) : BigInt(TOP - PAGE);
      return { text: `${at}.pageTableLeaf(${hex(addr)})`, run: (side) => p(side).pageTableLeaf(addr) };
    }
    case 'sendFd': {
      const file = fdAt(op.f);
      const ti = op.to % procs.length;
      const to = procs[ti]!;
      return {
        text: `${at}.sendFd(${file.fd}, p${ti})`,
        run: (side) => p(side).sendFd(file.fd, to[side]),
        after: (a) => void to.fds.push({ fd: a as number, unit: file.unit }),
      };
    }
    case 'close': {
      const { fd } = fdAt(op.f);
      return { text: `${at}.close(${fd})`, run: (side) => p(side).close(fd) };
    }
    case 'exit':
      return { text: `${at}.exit()`, run: (side) => p(side).exit() };
  }
}

/**
 * The physical address an injectUE op aims at: the page under a process's mapping (asked of
 * the first host with translate, which changes nothing), any pool page or THP folio (free or
 * in use), or just outside.
 * `owner` is the index of the process whose mapping was used (the candidate consumer), or -1.
 */
function physicalAddress(
  op: Extract<Op, { op: 'injectUE' }>,
  procs: readonly ProcPair[],
  opts: HostOptions,
): { phys: number | bigint; owner: number } {
  const offset = op.raw * PAGE + op.byte;
  if (op.where === 'mapped') {
    const mappers = procs.filter((x) => x.maps.length > 0);
    const pair = mappers[op.p % Math.max(1, mappers.length)];
    const map = pair && recent(pair.maps, op.m);
    if (pair && map) {
      let phys: bigint | null = null;
      try {
        phys = pair.a.translate(map.addr + BigInt(op.hugeIdx * UNIT[map.unit] + offset));
      } catch {
        // A dead process or a panicked host: aim at the pools instead.
      }
      if (phys !== null) return { phys, owner: procs.indexOf(pair) };
    }
  }
  // Not under a known mapping: a consumer is only asked for with 'other' (mostly EINVAL).
  const owner = op.consumer === 'other' && procs.length > 0 ? op.p % procs.length : -1;
  return { phys: poolAddress(op, opts, offset), owner };
}

function poolAddress(op: Extract<Op, { op: 'injectUE' }>, opts: HostOptions, offset: number): number {
  const n1G = opts.hugepages?.['1G'] ?? 0;
  const n2M = opts.hugepages?.['2M'] ?? 0;
  const nThp = opts.thpPages ?? 0;
  // THP folio k lies at PHYS_BASE + n1G * 1 GiB + n2M * 2 MiB + k * 2 MiB (docs: "THP").
  const thpBase = PHYS_BASE + n1G * UNIT['1G'] + n2M * UNIT['2M'];
  const end = thpBase + nThp * UNIT['2M'];
  if (op.where === 'thp' && nThp > 0) return thpBase + (op.frame % nThp) * UNIT['2M'] + (offset % UNIT['2M']);
  if (op.where !== 'outside') {
    if (op.size === '1G' && n1G > 0) return PHYS_BASE + (op.frame % n1G) * UNIT['1G'] + offset;
    if (n2M > 0) return PHYS_BASE + n1G * UNIT['1G'] + (op.frame % n2M) * UNIT['2M'] + (offset % UNIT['2M']);
  }
  return [0, PHYS_BASE - 1, end, end + UNIT['2M']][op.frame % 4]!;
}

/** The path and values of the first difference between two observations, or null. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (isDeepStrictEqual(a, b)) return null;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return `${path}: length ${a.length} vs ${b.length}: A ${show(a.slice(b.length))} B ${show(b.slice(a.length))}`;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
  }
  return `${path || '(value)'}: A ${show(a)} vs B ${show(b)}`;
}

/** JSON with bigints in hex (they are addresses) and undefined spelled out. */
function show(x: unknown): string {
  if (x === undefined) return 'undefined';
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}n` : v === undefined ? 'undefined' : v));
}
