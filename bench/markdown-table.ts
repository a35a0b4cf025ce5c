// Tables as GitHub markdown: what the terminal prints is what bench/README.md shows.

export type Cell = string | number | undefined;

function format(cell: Cell): string {
  if (cell === undefined) return '—';
  if (typeof cell === 'number') {
    if (Number.isInteger(cell)) return String(cell);
    // Small ratios keep three significant digits (0.00412), larger numbers at most three decimals.
    return cell < 1 ? String(Number(cell.toPrecision(3))) : cell.toFixed(cell >= 100 ? 1 : cell >= 10 ? 2 : 3);
  }
  return cell.replace(/\|/g, '\\|');
}

/** Columns are padded so the table also reads as plain text; `right` columns are numbers. */
export function markdownTable(headers: string[], rows: Cell[][], right: ReadonlySet<number> = new Set()): string {
  const text = [headers, ...rows.map((r) => r.map(format))];
  const widths = headers.map((_, i) => Math.max(3, ...text.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(text[0] as string[]), rule, ...text.slice(1).map((r) => line(r as string[]))].join('\n');
}
