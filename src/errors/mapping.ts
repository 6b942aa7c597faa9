// DRAM -> physical address mappings. A mapping decides how many 4 KiB / 2 MiB / 1 GiB pages
// one fault touches. Each host has its own physical address space starting at physBase;
// sockets are contiguous (one NUMA node each); inside a socket the address is, from the most
// significant digit: row, bank, rank (slot x rank), upper column chunk, channel, lower
// column lines, byte. Mixed radix, so channel counts need not be powers of two.
// (A third choice, "use the logged physical address", belongs to the log readers.)
import type { MappingConfig } from './config.js';
import { BANKS, BANK_BITS, BURST_BITS, LINE_BYTES, LINES_PER_ROW, ROW_BYTES, type Topology } from './topology.js';

/** Where a DRAM location sits in a host's physical address space. */
export interface DramMapping {
  readonly kind: 'linear' | 'xor';
  /** Physical byte address of a DRAM location (column includes the burst beat). */
  physAddr(dimm: number, rank: number, bank: number, row: number, column: number): number;
}

/** A linear or XOR-hashed DRAM to physical address mapping over a topology, from `physBase`. */
export function makeMapping(cfg: MappingConfig, t: Topology, physBase: number): DramMapping {
  const interleave = cfg.channelInterleaveBytes;
  if (interleave < LINE_BYTES || interleave > ROW_BYTES || (interleave & (interleave - 1)) !== 0) {
    throw new Error(`mapping: channel interleave ${interleave} B must be a power of two from 64 B to ${ROW_BYTES} B`);
  }
  const chunkLines = interleave / LINE_BYTES;
  const chunkShift = Math.log2(chunkLines);
  const chunksPerRow = LINES_PER_ROW / chunkLines;
  const channels = t.channelsPerSocket;
  const dimmsPerSocket = channels * t.dimmsPerChannel;
  const ranksPerChannel = t.dimmsPerChannel * t.ranksPerDimm;
  const channelsPow2 = (channels & (channels - 1)) === 0;
  const hashed = cfg.kind === 'xor';

  return {
    kind: cfg.kind,
    physAddr(dimm, rank, bank, row, column) {
      const socket = Math.floor(dimm / dimmsPerSocket);
      const inSocket = dimm - socket * dimmsPerSocket;
      let channel = Math.floor(inSocket / t.dimmsPerChannel);
      const slot = inSocket - channel * t.dimmsPerChannel;
      const line = column >> BURST_BITS;
      const chunk = line >> chunkShift;
      if (hashed) {
        // Like the bank/channel hashes of real controllers: low row bits fold into the bank,
        // higher row bits and the column chunk into the channel. Both stay bijective.
        bank ^= row & (BANKS - 1);
        const h = (row >> BANK_BITS) ^ chunk;
        channel = channelsPow2 ? channel ^ (h & (channels - 1)) : (channel + h) % channels;
      }
      let a = row;
      a = a * BANKS + bank;
      a = a * ranksPerChannel + slot * t.ranksPerDimm + rank;
      a = a * chunksPerRow + chunk;
      a = a * channels + channel;
      a = a * chunkLines + (line & (chunkLines - 1));
      return physBase + socket * t.socketBytes + a * LINE_BYTES + ((column & ((1 << BURST_BITS) - 1)) << 3);
    },
  };
}
