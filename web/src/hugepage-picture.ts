// The selftest's state as a picture (SVG): the four mapped hugepages in a row, then
// hugepage 0 (where the selftest poisons) as a grid of its 4 KiB pages, with the poisoned
// pages in red and the range each SIGBUS reported (si_addr, si_addr_lsb) outlined.
import { BUS_MCEERR_AO } from 'mfrsim';
import { esc } from './dom.js';
import { HUGEPAGE_BYTES, PAGE, type HugepageState, type Snapshot } from './selftest-state.js';

const WIDTH = 560;
const FILL: Record<HugepageState, string> = {
  'not faulted': '#f2f2f2',
  mapped: '#cde8cd',
  'mapped, poison kept': '#ffe2a8',
  'offline (HWPOISON)': '#f3b3b3',
  released: '#dddddd',
};
const POISON = '#d62728';
const SIGNAL = '#1f5fbf';

/** Columns of the grid and the pixels per 4 KiB page: 2 MiB as 32 x 16 cells, 1 GiB as 512 x 512 pixels. */
const GRID = { '2M': { cols: 32, cell: 17 }, '1G': { cols: 512, cell: 1 } } as const;

export function hugepagePicture(s: Snapshot, map: bigint | null): string {
  const H = HUGEPAGE_BYTES[s.size];
  const pages = H / PAGE;
  const { cols, cell } = GRID[s.size];
  const rows = pages / cols;
  const out: string[] = [];
  // The mapping: four hugepages.
  const boxW = (WIDTH - 3 * 8) / 4;
  s.hugepages.forEach((state, i) => {
    const x = i * (boxW + 8);
    out.push(
      `<rect x="${x}" y="0" width="${boxW}" height="44" rx="4" fill="${FILL[state]}" stroke="#888"/>`,
      `<text x="${x + 8}" y="18" font-size="13" font-weight="600">hugepage ${i}</text>`,
      `<text x="${x + 8}" y="35" font-size="11" fill="#333">${esc(state)}</text>`,
    );
  });
  // Hugepage 0, page by page.
  const top = 70;
  const gw = cols * cell;
  const gh = rows * cell;
  const x0 = (WIDTH - gw) / 2;
  out.push(
    `<text x="0" y="${top - 8}" font-size="12">hugepage 0: ${pages.toLocaleString('en-US')} pages of 4 KiB (${cell === 1 ? 'a pixel' : 'a cell'} each)</text>`,
    `<rect x="${x0}" y="${top}" width="${gw}" height="${gh}" fill="${FILL[s.hugepages[0]!]}" stroke="#888"/>`,
  );
  if (cell > 1) {
    for (let c = 1; c < cols; c++) out.push(`<line x1="${x0 + c * cell}" y1="${top}" x2="${x0 + c * cell}" y2="${top + gh}" stroke="#fff" stroke-width="1"/>`);
    for (let r = 1; r < rows; r++) out.push(`<line x1="${x0}" y1="${top + r * cell}" x2="${x0 + gw}" y2="${top + r * cell}" stroke="#fff" stroke-width="1"/>`);
  }
  const at = (page: number) => ({ x: x0 + (page % cols) * cell, y: top + Math.floor(page / cols) * cell });
  // Poisoned pages: a cell, or a visible square around the pixel of a 1 GiB hugepage.
  for (const p of s.poisoned) {
    if (p >= pages) continue;
    const { x, y } = at(p);
    const pad = cell === 1 ? 4 : 0;
    out.push(`<rect class="poisoned" data-page="${p}" x="${x - pad}" y="${y - pad}" width="${cell + 2 * pad}" height="${cell + 2 * pad}" fill="${POISON}"/>`);
  }
  // Each signal's reported range: 4 KiB (a page), 2 MiB (a row of a 1 GiB grid) or the hugepage.
  if (map !== null) {
    s.signals.forEach((sig, i) => {
      const offset = Number(sig.addr - map);
      if (offset < 0 || offset >= H) return;
      const span = Math.min(2 ** sig.addrLsb, H) / PAGE;
      const first = Math.floor(offset / PAGE / span) * span;
      const { x, y } = at(first);
      const w = span >= cols ? gw : span * cell;
      const h = span >= cols ? (span / cols) * cell : cell;
      const pad = span === 1 && cell === 1 ? 6 : 2;
      const last = i === s.signals.length - 1;
      out.push(
        `<rect class="signal" x="${x - pad}" y="${y - pad}" width="${w + 2 * pad}" height="${h + 2 * pad}" fill="none" ` +
          `stroke="${SIGNAL}" stroke-width="${last ? 3 : 1.5}"${sig.code === BUS_MCEERR_AO ? ' stroke-dasharray="4 3"' : ''}/>`,
      );
    });
  }
  // Legend.
  const ly = top + gh + 22;
  const legend: [string, string][] = [
    [FILL.mapped, 'mapped'],
    [FILL['mapped, poison kept'], 'mapped, poison kept'],
    [FILL['offline (HWPOISON)'], 'offline'],
    [POISON, 'poisoned 4 KiB page'],
  ];
  legend.forEach(([fill, label], i) => {
    const x = i * 140;
    out.push(`<rect x="${x}" y="${ly - 10}" width="12" height="12" fill="${fill}" stroke="#888"/>`, `<text x="${x + 17}" y="${ly}" font-size="11">${label}</text>`);
  });
  out.push(
    `<rect x="0" y="${ly + 8}" width="12" height="12" fill="none" stroke="${SIGNAL}" stroke-width="2"/>`,
    `<text x="17" y="${ly + 18}" font-size="11">range a SIGBUS reported (si_addr, 2^si_addr_lsb bytes; dashed: action optional)</text>`,
  );
  const height = ly + 26;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" role="img" aria-label="the selftest's hugepages after step ${s.step.n}">${out.join('')}</svg>`;
}
