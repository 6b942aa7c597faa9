// IA32_MCi_STATUS, as logged by mcelog and rasdaemon's mce_record: whether the error is valid,
// corrected or not, has an address, and whether a read consumed it or the scrubber found it.
import { FLAG_SCRUB, FLAG_SOURCE_UNKNOWN, FLAG_UE } from '../batch.js';

const VAL = 1n << 63n;
const UC = 1n << 61n;
const ADDRV = 1n << 58n;
const S = 1n << 56n;
const AR = 1n << 55n;

export interface MciStatus {
  valid: boolean;
  addressValid: boolean;
  /** FLAG_UE / FLAG_SCRUB / FLAG_SOURCE_UNKNOWN as they apply. */
  flags: number;
}

/** The memory transaction of a memory-controller error code 0000_0000_1MMM_CCCC; -1 if not one. */
function memoryTransaction(status: bigint): number {
  const mcacod = Number(status & 0xffffn);
  return (mcacod & 0xff80) === 0x0080 ? (mcacod >> 4) & 7 : -1;
}

const TRANSACTION_READ = 1;
const TRANSACTION_SCRUB = 4;

export function decodeMciStatus(status: bigint): MciStatus {
  const uncorrected = (status & UC) !== 0n;
  const transaction = memoryTransaction(status);
  let source: number;
  if (uncorrected && (status & S) !== 0n) {
    source = (status & AR) !== 0n ? 0 : FLAG_SCRUB; // SRAR: consumed; SRAO: found by the scrubber
  } else if (transaction === TRANSACTION_SCRUB) {
    source = FLAG_SCRUB;
  } else if (transaction === TRANSACTION_READ) {
    source = 0;
  } else {
    source = FLAG_SOURCE_UNKNOWN;
  }
  return {
    valid: (status & VAL) !== 0n,
    addressValid: (status & ADDRV) !== 0n,
    flags: (uncorrected ? FLAG_UE : 0) | source,
  };
}
