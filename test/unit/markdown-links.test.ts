/**
 * The repository stands on its own: a relative link in any Markdown file leads to a file in
 * the repository that exists (and, with a `#fragment`, to a heading of it). A link that climbs
 * out of the checkout (`../shared/…`) works on one machine only; a clone has nothing there.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SKIP = new Set(['node_modules', '.git', '.local']);

function markdownFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(file);
    return entry.name.endsWith('.md') ? [file] : [];
  });
}

/** Code (fenced and inline) is not prose: a `[x](y)` there is not a link, a `# x` not a heading. */
const outsideFences = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');
const prose = (text: string) => outsideFences(text).replace(/`[^`\n]*`/g, '');

/** `[text](target)` and `[text](target "title")`; images too. */
const linkTargets = (text: string) => [...prose(text).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of outsideFences(text).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target); // https:, mailto:, …

/** What is wrong with one relative link from `file`, or undefined. */
function problem(file: string, target: string): string | undefined {
  const [rawPath, fragment] = target.split('#', 2) as [string, string | undefined];
  const resolved = rawPath === '' ? path.join(root, file) : path.resolve(root, path.dirname(file), decodeURIComponent(rawPath));
  const inside = path.relative(root, resolved);
  if (inside.startsWith('..') || path.isAbsolute(inside)) return 'leads outside the repository';
  if (!existsSync(resolved)) return 'leads to a missing file';
  if (fragment && resolved.endsWith('.md') && statSync(resolved).isFile() && !anchors(readFileSync(resolved, 'utf8')).has(fragment)) {
    return `names no heading of ${inside}`;
  }
  return undefined;
}

const files = markdownFiles('.');

describe('Markdown links', () => {
  it('finds the documents and their links', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'RUNBOOK.md', path.join('docs', 'design.md')]));
    expect(files.flatMap((file) => linkTargets(readFileSync(path.join(root, file), 'utf8'))).filter((t) => !isExternal(t)).length).toBeGreaterThan(20);
  });

  it('lead only to files and headings inside the repository', () => {
    const broken = files.flatMap((file) =>
      linkTargets(readFileSync(path.join(root, file), 'utf8'))
        .filter((target) => !isExternal(target))
        .map((target) => ({ file, target, problem: problem(file, target) }))
        .filter((link) => link.problem !== undefined),
    );
    expect(broken).toEqual([]);
  });

  it('are checked by rules that reject a link out of the repository, to a missing file or heading', () => {
    expect(problem('README.md', '../shared/DESIGN.md')).toBe('leads outside the repository');
    expect(problem('docs/design.md', '../../elsewhere.md')).toBe('leads outside the repository');
    expect(problem('README.md', 'docs/missing.md')).toBe('leads to a missing file');
    expect(problem('docs/design.md', '../RUNBOOK.md#no-such-heading')).toBe('names no heading of RUNBOOK.md');
    expect(problem('docs/design.md', '../RUNBOOK.md#secrets')).toBeUndefined();
    expect(problem('README.md', '#architecture')).toBeUndefined();
    expect(linkTargets('see [a](b.md) and `[c](d.md)`\n```\n[e](f.md)\n```\n')).toEqual(['b.md']);
  });
});
