// Replayed accesses of a VMM that runs a KVM guest are guest accesses: a fault on offlined
// memory is signalled as x86 KVM does (kvm_send_hwpoison_signal: AR at the host virtual
// address of the guest's 4 KiB page, lsb 12, no log line), the same as the Host API's guest
// access, while a plain process gets x86 do_sigbus's signal (exact address, lsb 21) and its
// "MCE: Killing" line. The study's VMs run guests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BUS_MCEERR_AR, MAP_SHARED, MFD_HUGETLB, PROT_READ, PROT_WRITE } from '../src/host/constants.js';
import { Host } from '../src/host/host.js';
import { FleetShard } from '../src/fleet/shard.js';
import { DEFAULT_SCENARIO } from '../src/study/default-scenario.js';
import { studyHost } from '../src/study/host-spec.js';
import { parseScenario } from '../src/study/scenario.js';

const MB2 = 2 ** 21;

test('replay: a guest VM faulting on an offlined hugepage gets KVM\'s signal, a plain process do_sigbus\'s', async () => {
  const vm = (kvmGuest: boolean) => ({ memory: 2 * MB2, hugepage: '2M' as const, policy: 'default' as const, kvmGuest });
  const shard = FleetShard.create([{ hugepages: { '2M': 4 }, vms: [vm(true), vm(false)] }]);
  const [guest, plain] = shard.vms;
  // A scrubbed UE on hugepage 0 of each VM's memory: DEFAULT offlines it.
  shard.injectScrubUEs(0, [shard.physOf(guest!, 0)! + 0x3000, shard.physOf(plain!, 0)! + 0x3000]);
  const lines = shard.kernelLogLines;
  const cols = shard.accessColumns();
  const offset = 0x5123;
  for (const [i, v] of [guest!, plain!].entries()) {
    cols.proc[i] = v.proc;
    cols.va[i] = v.base + offset;
    cols.write[i] = 0;
  }
  shard.replayAccesses(2);
  const sig = shard.signalLog.map((s) => ({ code: s.code, addr: s.addr, lsb: s.addrLsb }));
  assert.equal(sig, [
    { code: BUS_MCEERR_AR, addr: BigInt(guest!.base + 0x5000), lsb: 12 },
    { code: BUS_MCEERR_AR, addr: BigInt(plain!.base + offset), lsb: 21 },
  ]);
  assert.is(shard.kernelLogLines, lines + 1, 'only the plain process\'s fault logs the do_sigbus line');
  assert.is(shard.hostStats(0).accesses - shard.hostStats(0).ok, 2);

  // The Host API's guest access gives the same signal.
  const host = await Host.create({ hugepages: { '2M': 2 } });
  const p = host.spawn({ kvmGuest: true });
  const fd = p.memfdCreate('guest', MFD_HUGETLB);
  p.ftruncate(fd, MB2);
  const map = p.mmap(0, MB2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  p.write(map, 1);
  host.injectUE(p.translate(map)! + 0x3000n);
  const r = p.read(map + BigInt(offset), 1, { guest: true });
  assert.equal(r, { ok: false, signal: { signo: 7, code: BUS_MCEERR_AR, addr: map + 0x5000n, addrLsb: 12 } });
});

test('the study boots every VM as a KVM guest', () => {
  const { host } = studyHost(parseScenario(DEFAULT_SCENARIO));
  assert.ok(host.vms.length > 0);
  assert.ok(host.vms.every((vm) => vm.kvmGuest === true));
});

test.run();
