/*
 * The native baseline of the replay benchmark (bench/replay.bench.ts): replays the access
 * events the kernel holds in its columns over a dump of the kernel's linear memory, doing
 * the fast path of assembly/replay.ts replay_access: the last leaf remembered, else the
 * page-table walk from the process's PGD, the present / RW / _PAGE_SIM_POISONED tests and,
 * on a kept poisoned folio, the test of the raw page's bit in its 2 MiB region's poison
 * chunk, found the way assembly/poison.ts finds it. Events the kernel would hand to its slow path
 * are counted (and the caches forgotten, as the kernel does), not handled.
 *
 * usage: replay <memory dump> <events> <rounds> <layout fields...>
 * prints one line: the median ns per event over the rounds, fast-path and slow-path events
 * of one round.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t u64;
typedef uint32_t u32;

/* assembly/constants.ts */
#define PAGE_PRESENT 1ull
#define PAGE_RW 2ull
#define PAGE_PSE 0x80ull
#define PAGE_SIM_POISONED 0x400ull
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define PHYS_BASE 0x100000000ull
#define BIT_CORRUPTED 1u
#define NO_REGION UINT64_MAX
#define NO_PAGE 1ull /* matches no masked address */

static const uint8_t *mem;
#define LOAD64(a) (*(const u64 *)(mem + (a)))
#define LOAD32(a) (*(const u32 *)(mem + (a)))

/* The layout block of assembly/layout.ts, in its order. */
#define LAYOUT_FIELDS 9
static u32 acc_proc, acc_va, acc_write, procs, proc_size, p_pgd, p_host, poison_table, poison_cap;

/* assembly/poison.ts chunkAt(): the chunk of a 2 MiB region, by open addressing over
 * 16-byte entries (u64 key, u32 chunk), linear probing. */
static u32 chunk_at(u64 k) {
  if (poison_cap == 0) return 0;
  u32 mask = poison_cap - 1;
  u32 i = (u32)((k * 0x9e3779b97f4a7c15ull) >> 32) & mask;
  u64 at = LOAD64(poison_table + (i << 4));
  while (at != k && at != 0) {
    i = (i + 1) & mask;
    at = LOAD64(poison_table + (i << 4));
  }
  return at == 0 ? 0 : LOAD32(poison_table + (i << 4) + 8);
}

/* The raw page's corrupted bit in its region's chunk (assembly/replay.ts, outer loop). */
static int raw_corrupted(u32 h, u64 phys) {
  u32 c = chunk_at(((u64)h << 32) | (((phys - PHYS_BASE) >> 21) + 1));
  if (c == 0) return 0;
  u32 raw = (u32)(phys >> 12) & 511;
  return (int)((LOAD64(c + (BIT_CORRUPTED << 6) + ((raw >> 6) << 3)) >> (raw & 63)) & 1);
}

struct counts { u64 fast, slow; };

static struct counts replay(u32 n, double *per_proc) {
  const u32 *proc = (const u32 *)(mem + acc_proc);
  const double *vas = (const double *)(mem + acc_va);
  const uint8_t *wr = mem + acc_write;
  struct counts c = {0, 0};
  u32 run_proc = UINT32_MAX, run_start = 0;
  u64 pgd = 0, cached_region = NO_REGION, pud = 0;
  u64 last_mask = 0, last_read = NO_PAGE, last_write = NO_PAGE;
  for (u32 i = 0; i < n; i++) {
    u32 p = proc[i];
    u64 va = (u64)(int64_t)vas[i];
    int write = wr[i] != 0;
    if (p != run_proc) {
      if (run_proc != UINT32_MAX) per_proc[run_proc] += i - run_start;
      run_proc = p;
      run_start = i;
      pgd = LOAD32(procs + p * proc_size + p_pgd);
      cached_region = NO_REGION;
      last_read = last_write = NO_PAGE;
    }
    u64 need = PAGE_PRESENT | ((u64)write << 1);
    if ((va & last_mask) == (write ? last_write : last_read)) { c.fast++; continue; }
    u64 region = va >> 30;
    if (region != cached_region) {
      u64 top = LOAD64(pgd + (((va >> 39) & 511) << 3));
      pud = (top & PAGE_PRESENT) == 0 ? 0 : LOAD64((top & PTE_ADDR_MASK) + ((region & 511) << 3));
      cached_region = region;
    }
    u64 e;
    u32 shift;
    if ((pud & (PAGE_PRESENT | PAGE_PSE)) != PAGE_PRESENT) {
      e = pud;
      shift = 30;
    } else {
      e = LOAD64((pud & PTE_ADDR_MASK) + (((va >> 21) & 511) << 3));
      shift = 21;
      if ((e & (PAGE_PRESENT | PAGE_PSE)) == PAGE_PRESENT) {
        e = LOAD64((e & PTE_ADDR_MASK) + (((va >> 12) & 511) << 3));
        shift = 12;
      }
    }
    u64 bits = e & (need | PAGE_SIM_POISONED);
    if (bits == need) {
      last_mask = ~((1ull << shift) - 1);
      last_read = va & last_mask;
      last_write = (e & PAGE_RW) != 0 ? last_read : NO_PAGE;
      c.fast++;
      continue;
    }
    if (bits == (need | PAGE_SIM_POISONED)
        && !raw_corrupted(LOAD32(procs + p * proc_size + p_host), (e & PTE_ADDR_MASK) + (va & ((1ull << shift) - 1)))) {
      c.fast++;
      continue;
    }
    c.slow++;
    cached_region = NO_REGION;
    last_read = last_write = NO_PAGE;
  }
  if (run_proc != UINT32_MAX) per_proc[run_proc] += n - run_start;
  return c;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 4 + LAYOUT_FIELDS) {
    fprintf(stderr, "usage: replay <memory dump> <events> <rounds> <%d layout fields>\n", LAYOUT_FIELDS);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = aligned_alloc(4096, ((size_t)size + 4095) & ~(size_t)4095);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) { fprintf(stderr, "%s: short read\n", argv[1]); return 1; }
  fclose(f);
  mem = buf;
  u32 n = (u32)strtoul(argv[2], 0, 10);
  int rounds = atoi(argv[3]);
  u32 *fields[] = { &acc_proc, &acc_va, &acc_write, &procs, &proc_size, &p_pgd, &p_host, &poison_table, &poison_cap };
  for (int i = 0; i < LAYOUT_FIELDS; i++) *fields[i] = (u32)strtoul(argv[4 + i], 0, 10);
  /* Per-process run counts, as the kernel keeps them (P_ACCESSES). */
  u32 nprocs = 0;
  for (u32 i = 0; i < n; i++) if (((const u32 *)(mem + acc_proc))[i] >= nprocs) nprocs = ((const u32 *)(mem + acc_proc))[i] + 1;
  double *per_proc = calloc(nprocs, sizeof(double));
  struct counts c = replay(n, per_proc); /* warm-up */
  double *ns = malloc(sizeof(double) * (size_t)rounds);
  for (int r = 0; r < rounds; r++) {
    double t = now_ns();
    c = replay(n, per_proc);
    ns[r] = (now_ns() - t) / n;
  }
  qsort(ns, (size_t)rounds, sizeof(double), by_value);
  double check = 0;
  for (u32 p = 0; p < nprocs; p++) check += per_proc[p];
  printf("{\"nsPerEvent\":%.4f,\"fast\":%llu,\"slow\":%llu,\"counted\":%.0f}\n", ns[rounds / 2],
    (unsigned long long)c.fast, (unsigned long long)c.slow, check);
  return 0;
}
