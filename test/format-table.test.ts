// The terminal table formatter: a table that fits is printed as is; one that does not wraps
// its headers, then takes short headers with a legend, then wraps its text columns; figures
// are never broken.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatParagraph, formatTable, wrapText } from '../src/format/table.js';

const widest = (text: string) => Math.max(...text.split('\n').map((l) => l.length));

test('wrapText wraps at spaces, keeps line breaks and breaks a word longer than the width', () => {
  assert.equal(wrapText('one two three four', 9), ['one two', 'three', 'four']);
  assert.equal(wrapText('a\nb c', 10), ['a', 'b c']);
  assert.equal(wrapText('abcdefghij xy', 4), ['abcd', 'efgh', 'ij', 'xy']);
  assert.equal(wrapText('traces/spec/mcf.lackey', 12), ['traces/spec/', 'mcf.lackey']);
  assert.is(formatParagraph('alpha beta gamma delta', { width: 12, indent: 2, hang: 2 }), '  alpha beta\n    gamma\n    delta');
});

test('a table that fits is laid out on one header line: names left, figures right', () => {
  const t = formatTable([{ header: 'trace' }, { header: 'memory lost', align: 'right' }], [['a.lackey', '4 MiB'], ['b', '1.50 GiB']], { rule: true });
  assert.is(t, ['trace     memory lost', '--------  -----------', 'a.lackey        4 MiB', 'b            1.50 GiB'].join('\n'));
});

test('too wide: headers wrap at spaces, then short headers with a legend, then text wraps; figures stay whole', () => {
  const figures = Array.from({ length: 8 }, (_, i) => ({ header: `hugepages lost in round ${i}`, align: 'right' as const }));
  const rows = [Array.from({ length: 8 }, () => '1,234,567')];
  const wrapped = formatTable(figures, rows, { width: 100 });
  assert.ok(widest(wrapped) <= 100, wrapped);
  assert.match(wrapped, /hugepages/);
  assert.ok(wrapped.split('\n').length > 2, 'headers on several lines');
  assert.ok(wrapped.includes('1,234,567'));

  const abbreviated = formatTable(
    [{ header: 'name' }, ...Array.from({ length: 6 }, (_, i) => ({ header: `uncorrectable_errors_${i}`, short: `UE${i}`, align: 'right' as const }))],
    [['x', '1', '2', '3', '4', '5', '6']],
    { width: 60 },
  );
  assert.ok(widest(abbreviated) <= 60, abbreviated);
  assert.match(abbreviated, /^name  UE0/m);
  assert.match(abbreviated, /UE0: uncorrectable_errors_0; UE1: uncorrectable_errors_1/);

  const text = formatTable([{ header: '#', align: 'right' }, { header: 'what happened', wrap: true }], [['1', 'word '.repeat(40).trim()]], { width: 40, indent: 2 });
  assert.ok(widest(text) <= 40, text);
  assert.match(text, /^  1  word word/m);
  assert.match(text, /^     word/m);
});

test('without a header row: a list of names and values whose values wrap', () => {
  const t = formatTable([{ header: 'name' }, { header: 'value', wrap: true }], [['memory lost', '4 MiB'], ['error records', 'x '.repeat(60).trim()]], { header: false, indent: 2, width: 50 });
  assert.ok(widest(t) <= 50, t);
  assert.match(t, /^  memory lost    4 MiB$/m);
  assert.match(t, /^                 x x/m);
});

test.run();
