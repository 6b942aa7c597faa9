// SIGBUS delivery. A process without a SIGBUS handler dies of the signal; deaths are
// queued and carried out after the event that raised them (the kernel likewise lets the
// task die on its way back to user space), so victim walks never see a half-exited task.

import { doublingBound, realloc } from './arena';
import { BUS_ADRERR, BUS_MCEERR_AO, BUS_MCEERR_AR, OUT_KILLED, OUT_SIGNAL } from './constants';
import { do_exit } from './hugetlb';
import { outbox_push } from './outbox';
import { H_KILLED, H_SIG_ADRERR, H_SIG_AO, H_SIG_AR, H_SIG_KERNEL, bumpCounter } from './pool';
import { PF_HANDLES_SIGBUS, procAlive, procFlags, procHost, procPid, set_current } from './procs';

let pending: usize = 0;
let pendingCap: u32 = 0;
let pendingCount: u32 = 0;

/** force_sig_mceerr / force_sig_fault: records SIGBUS with si_code, si_addr, si_addr_lsb. */
export function send_sigbus(p: u32, code: u32, addr: u64, lsb: u32): void {
  const h = procHost(p);
  outbox_push(OUT_SIGNAL, h, procPid(p), code | (lsb << 16), addr, 0);
  bumpCounter(h, code == BUS_MCEERR_AR ? H_SIG_AR : code == BUS_MCEERR_AO ? H_SIG_AO : code == BUS_ADRERR ? H_SIG_ADRERR : H_SIG_KERNEL);
  if ((procFlags(p) & PF_HANDLES_SIGBUS) != 0) return;
  if (pendingCount == pendingCap) {
    const next = pendingCap == 0 ? <u32>16 : pendingCap * 2;
    pending = realloc(pending, <usize>pendingCap << 2, <usize>next << 2);
    pendingCap = next;
  }
  store<u32>(pending + (<usize>pendingCount << 2), p);
  pendingCount++;
}

/** Heap bytes the death queue may take to hold `n` processes. */
export function kill_queue_bound(n: u64): u64 {
  return doublingBound(pendingCap, <u64>pendingCount + n, 4, 16);
}

/** Carries out the deaths queued by send_sigbus. */
export function reap_killed(): void {
  for (let i: u32 = 0; i < pendingCount; i++) {
    const p = load<u32>(pending + (<usize>i << 2));
    if (!procAlive(p)) continue;
    // The task dies on its way back to user space: it is `current` for its own exit.
    set_current(<i32>p);
    do_exit(p);
    bumpCounter(procHost(p), H_KILLED);
    outbox_push(OUT_KILLED, procHost(p), procPid(p), 0, 0, 0);
  }
  pendingCount = 0;
}
