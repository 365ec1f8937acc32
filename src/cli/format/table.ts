// Column alignment the way Docker prints its tables.
//
// Docker feeds every table (network ls, ps, ...) through Go's text/tabwriter
// configured with minwidth 10, tabwidth 1, padding 3 and a space as the pad
// character. The rules that matter for byte-exact output:
//   * a cell is the text before a '\t' (or '\v'); the text after the last tab
//     of a line is not part of any column and is never padded;
//   * a column's width is the widest cell in the column plus the padding,
//     but never less than minwidth (width is counted in code points);
//   * a column only spans consecutive lines that have a cell in it, so a line
//     with fewer cells starts a new block with its own widths.

export interface TabwriterOptions {
  /** Minimal width of a column, padding included. Docker: 10. */
  minwidth?: number;
  /** Added to the widest cell of a column. Docker: 3. */
  padding?: number;
  /** Character used to pad cells. Docker: ' '. */
  padchar?: string;
}

/** The settings Docker's CLI uses for every table. */
export const DOCKER_TABWRITER: Required<TabwriterOptions> = Object.freeze({
  minwidth: 10,
  padding: 3,
  padchar: ' ',
});

interface Cell {
  text: string;
  width: number;
}

function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Aligns tab-separated text exactly like Go's tabwriter with Docker's
 * settings. Lines end with '\n'; a trailing partial line is kept as is.
 */
export function tabwrite(text: string, options: TabwriterOptions = {}): string {
  const opts = { ...DOCKER_TABWRITER, ...options };
  const endsWithNewline = text.endsWith('\n');
  const rawLines = text.split('\n');
  if (endsWithNewline) rawLines.pop();
  const lines: Cell[][] = rawLines.map((raw) =>
    raw.split(/[\t\v]/).map((t) => ({ text: t, width: textWidth(t) })),
  );

  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i]!;
      let s = '';
      line.forEach((cell, j) => {
        s += cell.text;
        if (j < widths.length) s += opts.padchar.repeat(Math.max(0, widths[j]! - cell.width));
      });
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur]!.length - 1) continue;
      // a cell exists in this column: print the lines before the block
      writeLines(line0, cur);
      line0 = cur;
      let width = opts.minwidth;
      for (; cur < line1; cur++) {
        const line = lines[cur]!;
        if (column >= line.length - 1) break;
        const w = line[column]!.width + opts.padding;
        if (w > width) width = w;
      }
      widths.push(width);
      format(line0, cur);
      widths.pop();
      line0 = cur;
      cur--; // the outer loop's increment must not skip the line that ended the block
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  const joined = out.join('\n');
  return endsWithNewline ? joined + '\n' : joined;
}

/**
 * Renders rows of cells as a Docker table: cells joined by tabs, one line per
 * row, aligned by tabwrite. The last cell of each row is not padded.
 */
export function formatTable(rows: readonly (readonly string[])[], options: TabwriterOptions = {}): string {
  if (rows.length === 0) return '';
  return tabwrite(rows.map((r) => r.join('\t')).join('\n') + '\n', options);
}
