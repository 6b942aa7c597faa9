// The kernel's allocator: a bump pointer over memory.grow with power-of-two size classes.
// The stub runtime never frees, so all kernel state lives in blocks handed out here.
//
// Running out of linear memory is an ENOMEM from the entry point whose call needed it,
// never a trap: every entry point first asks arena_reserve for the most its call can
// allocate (assembly/reserve.ts), which grows linear memory up front, before anything
// changes. An allocation inside the call then never finds memory.grow failing.

const MIN_CLASS: u32 = 4; // 16 bytes
const NUM_CLASSES: u32 = 32;
const WASM_PAGE_SHIFT: u64 = 16;
const freeHeads: usize = memory.data(<i32>NUM_CLASSES * 4, 16);
let heapTop: usize = (__heap_base + 15) & ~(<usize>15);
/** wasm32's 4 GiB less one page, so that the end of the heap still fits a usize. */
const MAX_BYTES: u64 = (<u64>1 << 32) - (<u64>1 << WASM_PAGE_SHIFT);
/** Bytes linear memory may grow to: all of wasm32, unless lowered (arena_set_limit). */
let limitBytes: u64 = MAX_BYTES;
/** End of the current call's reservation; allocations that pass it are counted as overruns. */
let reservedEnd: u64 = 0;
let overruns: u32 = 0;
let exhausted = false;

// @ts-ignore: decorator
@inline function sizeClass(size: usize): u32 {
  const c = <u32>(32 - clz<u32>(<u32>(size - 1)));
  return c < MIN_CLASS ? MIN_CLASS : c;
}

/** Grows linear memory to hold `end` bytes; false when the limit or the engine refuses. */
function growTo(end: u64): bool {
  const have = <u64>memory.size() << WASM_PAGE_SHIFT;
  if (end <= have) return true;
  if (end > limitBytes) return false;
  const pages = <i32>((end - have + 0xffff) >> WASM_PAGE_SHIFT);
  // Grow at least 1/8 of what we have (within the limit), to keep the number of grows small.
  const room = <i32>((limitBytes - have) >> WASM_PAGE_SHIFT);
  const want = min<i32>(max<i32>(pages, <i32>(have >> 19)), room);
  return memory.grow(want) >= 0 || memory.grow(pages) >= 0;
}

/**
 * Makes sure `bytes` more can be allocated in the call that follows (grows linear memory
 * now). False, with nothing changed, when it cannot: the caller returns -ENOMEM.
 */
export function arena_reserve(bytes: u64): bool {
  const end = <u64>heapTop + bytes;
  if (end < bytes || !growTo(end)) {
    exhausted = true;
    return false;
  }
  reservedEnd = end;
  exhausted = false;
  return true;
}

/** Whether the last reservation failed (the kernel's own memory, not a pool, is full). */
export function arenaExhausted(): bool {
  return exhausted;
}

/** Lowers (or restores) the most linear memory may grow to; never below what it holds. */
export function arena_set_limit(bytes: f64): void {
  // Whole wasm pages, so that growing to any end within the limit fits in the room left.
  limitBytes = (bytes < <f64>MAX_BYTES ? <u64>bytes : MAX_BYTES) & ~((<u64>1 << WASM_PAGE_SHIFT) - 1);
}

/** Allocations that went past their call's reservation: a bound in reserve.ts is too small. */
export function arenaOverruns(): u32 {
  return overruns;
}

/** Heap bytes one alloc(size) may take: its block and the alignment padding before it. */
export function allocBound(size: u64): u64 {
  // Past wasm32's 4 GiB no bound matters: any such call fails its reservation.
  if (size > MAX_BYTES) return size << 1;
  const block = size <= 16 ? <u64>16 : <u64>1 << (64 - clz<u64>(size - 1));
  return block + (block < 4096 ? block : 4096);
}

/**
 * Heap bytes an array of `elem`-byte entries that doubles from `cap` entries (`first` when
 * empty) may take to hold `need` entries: one alloc per doubling.
 */
export function doublingBound(cap: u64, need: u64, elem: u64, first: u64): u64 {
  let total: u64 = 0;
  for (let c = cap; c < need; ) {
    c = c == 0 ? first : c << 1;
    total += allocBound(c * elem);
  }
  return total;
}

/** Zeroed block of at least `size` bytes, aligned to min(block size, 4096). */
export function alloc(size: usize): usize {
  const c = sizeClass(size);
  const block: usize = (<usize>1) << c;
  const head = load<usize>(freeHeads + (<usize>c << 2));
  let ptr: usize;
  if (head != 0) {
    store<usize>(freeHeads + (<usize>c << 2), load<usize>(head));
    ptr = head;
  } else {
    const align: u64 = block < 4096 ? block : 4096;
    const start = (<u64>heapTop + align - 1) & ~(align - 1);
    const end = start + <u64>block;
    if (end > reservedEnd) overruns++;
    // Only an allocation beyond its call's reservation can find no memory here.
    if (end > MAX_BYTES || !growTo(end)) unreachable();
    ptr = <usize>start;
    heapTop = <usize>end;
  }
  memory.fill(ptr, 0, block);
  return ptr;
}

/** Returns a block of `size` bytes (the size it was allocated with) to its class. */
export function free(ptr: usize, size: usize): void {
  if (ptr == 0) return;
  const slot = freeHeads + (<usize>sizeClass(size) << 2);
  store<usize>(ptr, load<usize>(slot));
  store<usize>(slot, ptr);
}

/** Grows a block, keeping its first `oldSize` bytes; the rest is zeroed. */
export function realloc(ptr: usize, oldSize: usize, newSize: usize): usize {
  if (ptr != 0 && sizeClass(oldSize) == sizeClass(newSize)) return ptr;
  const next = alloc(newSize);
  if (ptr != 0) {
    memory.copy(next, ptr, oldSize < newSize ? oldSize : newSize);
    free(ptr, oldSize);
  }
  return next;
}

/** Bytes of linear memory handed out so far (for the memory-per-hugepage figures). */
export function heapUsed(): usize {
  return heapTop - __heap_base;
}
