// The page cache kept as extents (assembly/files.ts): holes punched in the middle of a run of
// faulted hugepages, and faults out of order, leave every other index holding the folio it
// held, reservations counted as before, and the freed folios back in the pool.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Host } from '../src/host/host.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, MAP_SHARED, MFD_HUGETLB, MFD_HUGE_2MB, PROT_READ, PROT_WRITE } from '../src/host/constants.js';

const MiB = 2 ** 20;
const H = 2 * MiB;

test('punching holes in a run of faulted hugepages and faulting them back keeps every other folio in place', async () => {
  const host = await Host.create({ hugepages: { '2M': 32 } });
  const p = host.spawn();
  const fd = p.memfdCreate('guest', MFD_HUGETLB | MFD_HUGE_2MB);
  p.ftruncate(fd, 16 * H);
  const base = p.mmap(0, 16 * H, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert.is(host.hugepages('2M').resv, 16);
  // Every other hugepage first, then the rest: runs that meet must merge.
  for (let i = 0; i < 16; i += 2) assert.ok(p.write(base + BigInt(i * H), 1).ok);
  for (let i = 1; i < 16; i += 2) assert.ok(p.write(base + BigInt(i * H), 1).ok);
  const frames = Array.from({ length: 16 }, (_, i) => p.translate(base + BigInt(i * H)));
  assert.ok(frames.every((f) => f !== null));
  assert.is(new Set(frames).size, 16);
  assert.equal(host.hugepages('2M'), { nr: 32, free: 16, resv: 0, surplus: 0 });

  // One hugepage out of the middle, then a range across two others.
  p.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5 * H, H);
  p.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 9 * H, 3 * H);
  assert.is(host.hugepages('2M').free, 20);
  const holes = new Set([5, 9, 10, 11]);
  for (let i = 0; i < 16; i++) {
    assert.is(p.translate(base + BigInt(i * H)), holes.has(i) ? null : frames[i], `hugepage ${i}`);
  }
  // The holes fault back in (without reservations now), and nothing else moves.
  for (const i of [11, 5, 9, 10]) assert.ok(p.write(base + BigInt(i * H), 1).ok);
  assert.equal(host.hugepages('2M'), { nr: 32, free: 16, resv: 0, surplus: 0 });
  for (let i = 0; i < 16; i++) if (!holes.has(i)) assert.is(p.translate(base + BigInt(i * H)), frames[i]);
  const now = Array.from({ length: 16 }, (_, i) => p.translate(base + BigInt(i * H)));
  assert.is(new Set(now).size, 16);
  // pread sees the whole file; truncating in the middle of a run frees what lies beyond.
  assert.is(p.pread(fd, 16 * H, 0), 16 * H);
  p.ftruncate(fd, 7 * H);
  assert.is(host.hugepages('2M').free, 25);
  for (let i = 0; i < 16; i++) assert.is(p.translate(base + BigInt(i * H)), i < 7 ? now[i] : null);
  p.close(fd);
  p.munmap(base, 16 * H);
  assert.equal(host.hugepages('2M'), { nr: 32, free: 32, resv: 0, surplus: 0 });
  assert.is(host.kernel.arena_overruns(), 0);
});

test.run();
