// Tables and text for a terminal at most 100 columns wide: figures are never broken, so a
// table too wide for the width first wraps its headers at spaces, then takes the short
// headers it has (with a legend below the table), then wraps its text columns.

/** The width every table and line mfrsim prints for people fits in. */
export const TERMINAL_WIDTH = 100;

const GAP = 2;
/** A text column is never wrapped narrower than this (a word longer than a column is broken). */
const MIN_TEXT_WIDTH = 12;

/** One column of a table. */
export interface TableColumn {
  /** The header; it wraps at spaces when the column is narrower. */
  header: string;
  /** Figures right, names and text left (the default). */
  align?: 'left' | 'right';
  /** A short header for when the full one does not fit; the legend below the table gives the full one. */
  short?: string;
  /** The column holds text, which wraps at spaces (and "\n"); other cells are never broken. */
  wrap?: boolean;
}

export interface TableOptions {
  /** The width to fit (default TERMINAL_WIDTH). */
  width?: number;
  /** Spaces before every line (default 0). */
  indent?: number;
  /** Print the header row (default true). */
  header?: boolean;
  /** A line of dashes under the header (default false). */
  rule?: boolean;
}

/**
 * `text` wrapped at spaces into lines of at most `width` characters, the first at most
 * `firstWidth` ("\n" starts a new line; a word longer than a line is broken, after a
 * slash or a bar where it has one).
 */
export function wrapText(text: string, width: number, firstWidth = width): string[] {
  const lines: string[] = [];
  const room = () => Math.max(1, lines.length === 0 ? firstWidth : width);
  for (const paragraph of text.split('\n')) {
    let line = '';
    const flush = () => {
      lines.push(line);
      line = '';
    };
    for (let word of paragraph.split(' ')) {
      for (;;) {
        const space = line ? room() - line.length - 1 : room();
        const join = (part: string) => (line ? `${line} ${part}` : part);
        if (word.length <= space) {
          line = join(word);
          break;
        }
        // A word that fits a line of its own starts one; a longer one breaks, after a slash
        // (a path) or a bar (a list of flags) where one fits, else at the width.
        if (word.length > room()) {
          const cut = Math.max(word.lastIndexOf('/', space - 1), word.lastIndexOf('|', space - 1)) + 1 || (line ? 0 : space);
          if (cut > 0) {
            line = join(word.slice(0, cut));
            word = word.slice(cut);
          }
        }
        flush();
      }
    }
    lines.push(line);
  }
  return lines;
}

/** A paragraph for people: wrapped to the width, continuation lines indented by `hang` spaces. */
export function formatParagraph(text: string, opts: { width?: number; indent?: number; hang?: number } = {}): string {
  const indent = ' '.repeat(opts.indent ?? 0);
  const hang = ' '.repeat(opts.hang ?? 0);
  const width = (opts.width ?? TERMINAL_WIDTH) - indent.length;
  return wrapText(text, width - hang.length, width)
    .map((l, i) => `${indent}${i === 0 ? '' : hang}${l}`)
    .join('\n');
}

const longestWord = (text: string) => Math.max(0, ...text.split(/[ \n]/).map((w) => w.length));
const longestLine = (text: string) => Math.max(0, ...text.split('\n').map((l) => l.length));

/**
 * Rows under headers, columns two spaces apart, fitted to the width: headers wrap at spaces,
 * then short headers replace long ones (with a legend below), then text columns wrap.
 */
export function formatTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[], opts: TableOptions = {}): string {
  const width = opts.width ?? TERMINAL_WIDTH;
  const indent = ' '.repeat(opts.indent ?? 0);
  const showHeader = opts.header ?? true;
  const avail = width - indent.length - GAP * (columns.length - 1);
  const cells = (c: number) => rows.map((r) => r[c] ?? '');
  const cellWidth = columns.map((_, c) => Math.max(0, ...cells(c).map(longestLine)));
  const headers = columns.map((col) => (showHeader ? col.header : ''));
  const natural = columns.map((_, c) => Math.max(cellWidth[c]!, headers[c]!.length));
  const total = (ws: number[]) => ws.reduce((a, b) => a + b, 0);

  let widths = natural;
  if (total(widths) > avail) {
    // Headers wrap at spaces: a column needs its widest cell and its header's longest word.
    widths = columns.map((col, c) => (col.wrap ? natural[c]! : Math.max(cellWidth[c]!, longestWord(headers[c]!))));
  }
  if (total(widths) > avail && showHeader) {
    // Short headers, widest saving first, until the table fits.
    const saving = (c: number) => widths[c]! - Math.max(cellWidth[c]!, columns[c]!.short!.length);
    const candidates = columns.map((_, c) => c).filter((c) => columns[c]!.short !== undefined && saving(c) > 0).sort((a, b) => saving(b) - saving(a));
    for (const c of candidates) {
      if (total(widths) <= avail) break;
      widths[c] = widths[c]! - saving(c);
      headers[c] = columns[c]!.short!;
    }
  }
  // Text columns give up width, the widest first, down to their minimum.
  const minimum = columns.map((col, c) => (col.wrap ? Math.min(natural[c]!, Math.max(MIN_TEXT_WIDTH, longestWord(headers[c]!))) : widths[c]!));
  while (total(widths) > avail) {
    let widest = -1;
    for (let c = 0; c < columns.length; c++) if (widths[c]! > minimum[c]! && (widest < 0 || widths[c]! > widths[widest]!)) widest = c;
    if (widest < 0) break; // figures and names only: nothing can wrap
    widths[widest] = widths[widest]! - 1;
  }

  const block = (texts: readonly string[], bottom: boolean): string[] => {
    const wrapped = texts.map((t, c) => (columns[c]!.wrap || bottom ? wrapText(t, widths[c]!) : t.split('\n')));
    const height = Math.max(...wrapped.map((w) => w.length));
    // Headers sit on the rule (bottom-aligned); cells start at the top.
    const padded = wrapped.map((w) => (bottom ? [...Array<string>(height - w.length).fill(''), ...w] : [...w, ...Array<string>(height - w.length).fill('')]));
    return Array.from({ length: height }, (_, i) =>
      `${indent}${padded.map((w, c) => (columns[c]!.align === 'right' ? w[i]!.padStart(widths[c]!) : w[i]!.padEnd(widths[c]!))).join(' '.repeat(GAP))}`.trimEnd(),
    );
  };
  const lines = [
    ...(showHeader ? block(headers, true) : []),
    ...(opts.rule ? [`${indent}${widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP))}`] : []),
    ...rows.flatMap((r) => block(columns.map((_, c) => r[c] ?? ''), false)),
  ];
  const legend = columns.filter((col, c) => headers[c] !== col.header && showHeader).map((col) => `${col.short}: ${col.header}`);
  if (legend.length > 0) lines.push(formatParagraph(legend.join('; '), { width, indent: indent.length }));
  return lines.join('\n');
}
