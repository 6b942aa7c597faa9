// The kernel's allocator: a bump pointer over memory.grow with power-of-two size classes.
// The stub runtime never frees, so all kernel state lives in blocks handed out here.

const MIN_CLASS: u32 = 4; // 16 bytes
const NUM_CLASSES: u32 = 32;
const freeHeads: usize = memory.data(<i32>NUM_CLASSES * 4, 16);
let heapTop: usize = (__heap_base + 15) & ~(<usize>15);

// @ts-ignore: decorator
@inline function sizeClass(size: usize): u32 {
  const c = <u32>(32 - clz<u32>(<u32>(size - 1)));
  return c < MIN_CLASS ? MIN_CLASS : c;
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
    const align: usize = block < 4096 ? block : 4096;
    ptr = (heapTop + align - 1) & ~(align - 1);
    const end = ptr + block;
    const have = <usize>memory.size() << 16;
    if (end > have) {
      const pages = <i32>((end - have + 0xffff) >> 16);
      // Grow at least 1/8 of what we have, to keep the number of grows small.
      const want = max<i32>(pages, <i32>(have >> 19));
      if (memory.grow(want) < 0 && memory.grow(pages) < 0) unreachable();
    }
    heapTop = end;
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
