// Costs where they fall: the VMs that had at least one UE on their memory carry a policy's
// translation cost and its SIGBUS, while the fleet-wide averages dilute both over every VM
// that never saw an error.
import type { VmStats } from '../fleet/shard.js';

/** A run's figures on its affected VMs: those with at least one replayed UE on their memory. */
export interface AffectedVmFigures {
  /** VMs with at least one UE on memory they mapped. */
  vms: number;
  /** Of them, killed before the end (SIGBUS without a handler, or an action-required kill). */
  killed: number;
  /** SIGBUS delivered per affected VM (every SIGBUS goes to a process mapping poisoned memory). */
  sigbusPerVm: number;
  /**
   * Throughput lost to translation on the affected VMs alive at the end, against the same VMs
   * in the error-free baseline of the same backing (0.01 = 1%); 0 without such VMs.
   */
  translationLoss: number;
}

/**
 * The affected VMs' figures of a run; `baseline` holds the same hosts' VMs in the error-free
 * run, host by host and VM by VM in the same order.
 */
export function affectedVmFigures(run: readonly VmStats[][], baseline: readonly VmStats[][], sigbus: number, cyclesPerAccess: number): AffectedVmFigures {
  let vms = 0;
  let killed = 0;
  const alive = { run: { translated: 0, walkCycles: 0 }, base: { translated: 0, walkCycles: 0 } };
  run.forEach((host, h) => host.forEach((vm, v) => {
    if (vm.uesMapped === 0) return;
    vms++;
    if (!vm.alive) {
      killed++;
      return; // a dead VM's missing accesses change the mix of accesses, not the cost of translating them
    }
    const base = baseline[h]![v]!;
    alive.run.translated += vm.translated;
    alive.run.walkCycles += vm.walkCycles;
    alive.base.translated += base.translated;
    alive.base.walkCycles += base.walkCycles;
  }));
  const perAccess = (s: { translated: number; walkCycles: number }) => cyclesPerAccess + s.walkCycles / s.translated;
  const measured = alive.run.translated > 0 && alive.base.translated > 0;
  return {
    vms,
    killed,
    sigbusPerVm: vms === 0 ? 0 : sigbus / vms,
    translationLoss: measured ? 1 - perAccess(alive.base) / perAccess(alive.run) : 0,
  };
}
