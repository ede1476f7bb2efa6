import { describe, expect, it } from 'vitest';
import { withSection } from '../../bench/report.js';

const doc = '# Benchmarks\n\nintro\n\n## a (bench/a.ts)\n\nold a\n\n## b (bench/b.ts)\n\nold b\n';

describe('docs/benchmarks.md sections', () => {
  it('replaces a scenario\'s own section, first or last, and keeps the others in place', () => {
    expect(withSection(doc, 'a (bench/a.ts)', '\n## a (bench/a.ts)\n\nnew a\n')).toBe('# Benchmarks\n\nintro\n\n## a (bench/a.ts)\n\nnew a\n\n## b (bench/b.ts)\n\nold b\n');
    expect(withSection(doc, 'b (bench/b.ts)', '\n## b (bench/b.ts)\n\nnew b\n')).toBe('# Benchmarks\n\nintro\n\n## a (bench/a.ts)\n\nold a\n\n## b (bench/b.ts)\n\nnew b\n');
  });

  it('appends a scenario it does not have, and does not take a heading that only starts alike', () => {
    expect(withSection(doc, 'c', '\n## c\n\nc\n')).toBe(`${doc}\n## c\n\nc\n`);
    expect(withSection(doc, 'a', '\n## a\n\nx\n')).toBe(`${doc}\n## a\n\nx\n`);
  });
});
