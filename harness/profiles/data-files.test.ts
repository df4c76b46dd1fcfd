// The repo's own YAML data must say what it means: in YAML, " #" ends a plain value and starts a
// comment, so `reason: fixed by PR #5364` loads as "fixed by PR". Quote such values.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../version.ts';

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.yaml') && !e.parentPath.includes('testdata')) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

/** A plain (unquoted, not block) mapping value on the line, followed by " #<digit>": a reference cut off. */
const CUT_REFERENCE = /^\s*(?:- )?[\w.-]+: (?!["'|>])[^#\n]*\S #\d/;

describe('profiles and scenarios', () => {
  it('have no reference like "#1234" cut off as a YAML comment', async () => {
    const problems: string[] = [];
    for (const file of [...(await yamlFiles(path.join(REPO_ROOT, 'profiles'))), ...(await yamlFiles(path.join(REPO_ROOT, 'scenarios')))]) {
      (await readFile(file, 'utf8')).split('\n').forEach((line, i) => {
        if (CUT_REFERENCE.test(line)) problems.push(`${path.relative(REPO_ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(problems).toEqual([]);
  });

  it('the check itself catches the trap and leaves quoted values alone', () => {
    expect(CUT_REFERENCE.test('    reason: fixed by PR #5364')).toBe(true);
    expect(CUT_REFERENCE.test('    reason: "fixed by PR #5364"')).toBe(false);
    expect(CUT_REFERENCE.test('  - https://github.com/x/y/pull/1   # spec 1.1.0')).toBe(false);
  });
});
