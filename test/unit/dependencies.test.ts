// Every runtime dependency in package.json is one the product imports: a
// package nobody uses is not listed, and one src/ uses is not a dev-only one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Package names src/ imports (static `from '…'` and `import('…')`), subpaths folded into their package. */
function importedPackages(): Set<string> {
  const found = new Set<string>();
  for (const file of sources(join(root, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:(?<!['"`\w])from\s+|import\(\s*)'([@a-z0-9][\w./@-]*)'/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      const parts = spec.split('/');
      found.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return found;
}

describe('package.json dependencies', () => {
  const imported = importedPackages();

  it('lists only packages src/ imports', () => {
    expect(Object.keys(pkg.dependencies).filter((d) => !imported.has(d))).toEqual([]);
  });

  it('lists every package src/ imports as a runtime dependency', () => {
    expect([...imported].filter((d) => !(d in pkg.dependencies))).toEqual([]);
  });
});
