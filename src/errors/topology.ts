// Fleet topology: a host has sockets x channels x DIMMs; a DIMM has ranks of DRAM devices
// (18 x4 for chipkill, 9 x8 for SECDED); a device has 16 banks x rows x 1024 columns.
// A 64-byte line is one burst of 8 column beats across the rank, so a rank row holds
// 128 lines = 8 KiB.
import type { TopologyConfig } from './config.js';

export const BANKS = 16;
export const BANK_BITS = 4;
export const COLUMNS = 1024;
export const COLUMN_BITS = 10;
export const BURST_BITS = 3;
export const LINE_BYTES = 64;
export const LINES_PER_ROW = COLUMNS >> BURST_BITS;
export const ROW_BYTES = LINES_PER_ROW * LINE_BYTES;

/** A host's memory: sockets, channels, DIMMs, ranks and DRAM devices, and their sizes. */
export interface Topology {
  readonly sockets: number;
  readonly channelsPerSocket: number;
  readonly dimmsPerChannel: number;
  readonly ranksPerDimm: number;
  readonly ecc: 'chipkill' | 'secded';
  readonly dimmsPerHost: number;
  readonly devicesPerRank: number;
  readonly dqPerDevice: number;
  readonly rows: number;
  readonly rowBits: number;
  readonly dimmBytes: number;
  readonly socketBytes: number;
  readonly hostBytes: number;
}

/** A topology from its configuration, with the derived sizes. */
export function makeTopology(cfg: TopologyConfig): Topology {
  const rows = (cfg.dimmGiB * 2 ** 30) / (cfg.ranksPerDimm * BANKS * ROW_BYTES);
  const rowBits = Math.log2(rows);
  if (!Number.isInteger(rowBits) || rowBits < 8 || rowBits > 20) {
    throw new Error(
      `topology: ${cfg.dimmGiB} GiB DIMMs with ${cfg.ranksPerDimm} ranks give ${rows} rows per bank; ` +
        'choose a size giving a power of two between 2^8 and 2^20',
    );
  }
  const chipkill = cfg.ecc === 'chipkill';
  const dimmBytes = cfg.dimmGiB * 2 ** 30;
  const socketBytes = dimmBytes * cfg.channelsPerSocket * cfg.dimmsPerChannel;
  return {
    sockets: cfg.sockets,
    channelsPerSocket: cfg.channelsPerSocket,
    dimmsPerChannel: cfg.dimmsPerChannel,
    ranksPerDimm: cfg.ranksPerDimm,
    ecc: cfg.ecc,
    dimmsPerHost: cfg.sockets * cfg.channelsPerSocket * cfg.dimmsPerChannel,
    devicesPerRank: chipkill ? 18 : 9,
    dqPerDevice: chipkill ? 4 : 8,
    rows,
    rowBits,
    dimmBytes,
    socketBytes,
    hostBytes: socketBytes * cfg.sockets,
  };
}

/** Host-wide DIMM index: DIMMs are numbered socket-major, then channel, then slot. */
export function dimmIndex(t: Topology, socket: number, channel: number, slot: number): number {
  return (socket * t.channelsPerSocket + channel) * t.dimmsPerChannel + slot;
}

/** Solves dimmsPerHost = sockets x channels x dimmsPerChannel for dimmsPerChannel. */
export function dimmsPerChannelFor(dimmsPerHost: number, sockets: number, channelsPerSocket: number): number {
  const perChannel = dimmsPerHost / (sockets * channelsPerSocket);
  if (!Number.isInteger(perChannel) || perChannel < 1) {
    throw new Error(
      `--dimms-per-host ${dimmsPerHost} is not a multiple of sockets x channels (${sockets} x ${channelsPerSocket}); ` +
        'change it or set --sockets/--channels',
    );
  }
  return perChannel;
}
