// SIGBUS delivery. A process without a SIGBUS handler dies of the signal; deaths are
// queued and carried out after the event that raised them (the kernel likewise lets the
// task die on its way back to user space), so victim walks never see a half-exited task.

import { realloc } from './arena';
import { OUT_KILLED, OUT_SIGNAL } from './constants';
import { do_exit } from './hugetlb';
import { outbox_push } from './outbox';
import { PF_HANDLES_SIGBUS, procAlive, procFlags, procHost, procPid } from './procs';

let pending: usize = 0;
let pendingCap: u32 = 0;
let pendingCount: u32 = 0;

/** force_sig_mceerr / force_sig_fault: records SIGBUS with si_code, si_addr, si_addr_lsb. */
export function send_sigbus(p: u32, code: u32, addr: u64, lsb: u32): void {
  outbox_push(OUT_SIGNAL, procHost(p), procPid(p), code | (lsb << 16), addr, 0);
  if ((procFlags(p) & PF_HANDLES_SIGBUS) != 0) return;
  if (pendingCount == pendingCap) {
    const next = pendingCap == 0 ? <u32>16 : pendingCap * 2;
    pending = realloc(pending, <usize>pendingCap << 2, <usize>next << 2);
    pendingCap = next;
  }
  store<u32>(pending + (<usize>pendingCount << 2), p);
  pendingCount++;
}

/** Carries out the deaths queued by send_sigbus. */
export function reap_killed(): void {
  for (let i: u32 = 0; i < pendingCount; i++) {
    const p = load<u32>(pending + (<usize>i << 2));
    if (!procAlive(p)) continue;
    do_exit(p);
    outbox_push(OUT_KILLED, procHost(p), procPid(p), 0, 0, 0);
  }
  pendingCount = 0;
}
