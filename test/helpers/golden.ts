// Golden files: text compared with a file kept in the repository. Run with
// UPDATE_GOLDEN=1 to rewrite them after an intended change, then review the
// diff like any other code. Lines starting with '#' are comments (owners,
// explanations) and are not compared.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'vitest';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

function normalise(text: string): string {
  return (
    text
      .replace(/\r\n/g, '\n')
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .join('\n') + '\n'
  );
}

/** Compares `actual` with `file`; with UPDATE_GOLDEN=1 writes it, keeping `header` (comment lines) on top. */
export function expectGolden(file: string, actual: string, header: string[] = []): void {
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`missing golden file ${file}; run with UPDATE_GOLDEN=1 to create it`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, [...header.map((h) => `# ${h}`), normalise(actual)].join('\n'));
    return;
  }
  expect(normalise(actual)).toBe(normalise(readFileSync(file, 'utf8')));
}
