// The kernel-log reader on repeats (a UE on a raw page already poisoned) as three kernel
// generations print them: "already hardware poisoned" alone (before 2022), that line and
// "recovery action for already poisoned: Failed" (2022 to mid 2025), and "recovery action
// for already poisoned page: Failed" after the Sending line (since the Aug 2025 fix). A
// consumed repeat is one AR record, a scrubbed repeat one AO record, whatever the generation.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAG_SCRUB, FLAG_UE, type ErrorBatch } from '../src/errors/batch.js';
import { readKmsg } from '../src/errors/readers/kmsg.js';

const dir = mkdtempSync(join(tmpdir(), 'mfrsim-kmsg-repeats-'));

async function records(text: string): Promise<{ time: number; addr: number; flags: number }[]> {
  const file = join(dir, `kern-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(file, text);
  const out: { time: number; addr: number; flags: number }[] = [];
  for await (const b of readKmsg(file).batches as AsyncIterable<ErrorBatch>) {
    for (let i = 0; i < b.length; i++) out.push({ time: b.time[i]!, addr: b.physAddr[i]!, flags: b.flags[i]! });
  }
  return out;
}

/** A first UE consumed at t=100, a consumed repeat at t=200, a scrubbed repeat at t=300. */
const GENERATIONS: Record<string, string> = {
  'before 2022': `[  100.000000] mce: Uncorrected hardware memory error in user-access at 3710b3400
[  100.000001] Memory failure: 0x3710b3: Sending SIGBUS to qemu:1234 due to hardware memory corruption
[  100.000002] Memory failure: 0x3710b3: recovery action for huge page: Recovered
[  200.000000] mce: Uncorrected hardware memory error in user-access at 3710b3440
[  200.000001] Memory failure: 0x3710b3: already hardware poisoned
[  200.000002] Memory failure: 0x3710b3: Sending SIGBUS to qemu:1234 due to hardware memory corruption
[  300.000000] Memory failure: 0x3710b3: already hardware poisoned
`,
  '2022 to mid 2025': `[  100.000000] mce: Uncorrected hardware memory error in user-access at 3710b3400
[  100.000001] Memory failure: 0x3710b3: Sending SIGBUS to qemu:1234 due to hardware memory corruption
[  100.000002] Memory failure: 0x3710b3: recovery action for huge page: Recovered
[  200.000000] mce: Uncorrected hardware memory error in user-access at 3710b3440
[  200.000001] Memory failure: 0x3710b3: already hardware poisoned
[  200.000002] Memory failure: 0x3710b3: Sending SIGBUS to qemu:1234 due to hardware memory corruption
[  200.000003] Memory failure: 0x3710b3: recovery action for already poisoned: Failed
[  300.000000] Memory failure: 0x3710b3: already hardware poisoned
[  300.000001] Memory failure: 0x3710b3: recovery action for already poisoned: Failed
`,
  'since Aug 2025': `[  100.000000] mce: Uncorrected hardware memory error in user-access at 3710b3400
[  100.000001] Memory failure: 0x3710b3: Sending SIGBUS to qemu:1234 due to hardware memory corruption
[  100.000002] Memory failure: 0x3710b3: recovery action for huge page: Recovered
[  200.000000] mce: Uncorrected hardware memory error in user-access at 3710b3440
[  200.000001] Memory failure: 0x3710b3: Sending SIGBUS to qemu:1234 due to hardware memory corruption
[  200.000002] Memory failure: 0x3710b3: recovery action for already poisoned page: Failed
[  300.000000] Memory failure: 0x3710b3: recovery action for already poisoned page: Failed
`,
};

for (const [generation, text] of Object.entries(GENERATIONS)) {
  test(`kernel log (${generation}): a consumed repeat is one AR record, a scrubbed repeat one AO record`, async () => {
    assert.equal(await records(text), [
      { time: 100, addr: 0x3710b3400, flags: FLAG_UE },
      { time: 200, addr: 0x3710b3440, flags: FLAG_UE },
      { time: 300, addr: 0x3710b3000, flags: FLAG_UE | FLAG_SCRUB },
    ]);
  });
}

test('kernel log: two scrubbed repeats of one pfn are two records, in either wording', async () => {
  const twice = (line: string) => `[  1.0] Memory failure: 0x10: ${line}\n[  2.0] Memory failure: 0x10: ${line}\n`;
  for (const line of ['already hardware poisoned', 'recovery action for already poisoned page: Failed']) {
    assert.equal(await records(twice(line)), [1, 2].map((time) => ({ time, addr: 0x10000, flags: FLAG_UE | FLAG_SCRUB })), line);
  }
});

test("kernel log: the mfrsim kernel's own lines read back as the events it simulated", async () => {
  const { Host } = await import('../src/host/host.js');
  const { MAP_SHARED, MFD_HUGETLB, MFD_MF_KEEP_UE_MAPPED, PROT_READ, PROT_WRITE } = await import('../src/host/constants.js');
  const host = await Host.create({ hugepages: { '2M': 2 } });
  const p = host.spawn({ name: 'qemu' });
  const fd = p.memfdCreate('guest', MFD_HUGETLB | MFD_MF_KEEP_UE_MAPPED);
  p.ftruncate(fd, 2 ** 21);
  const map = p.mmap(0, 2 ** 21, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  p.write(map, 1);
  const phys = Number(p.translate(map)!);
  host.injectUE(phys + 0x5040, { consumer: p }); // consumed
  host.injectUE(phys + 0x5000); // scrubbed repeat
  p.read(map + 0x5000n, 1); // consumed repeat (a machine check)
  const text = host.kernelLog().map((l, i) => `[ ${i + 1}.000000] ${l}`).join('\n');
  assert.equal((await records(`${text}\n`)).map((r) => r.flags), [FLAG_UE, FLAG_UE | FLAG_SCRUB, FLAG_UE]);
});

test.run();
