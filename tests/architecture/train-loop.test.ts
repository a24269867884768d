/**
 * The training loop stays made of parts (issue 14): no function in core's `train/` is longer than
 * 80 lines (the length check itself is tested on a sample).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const trainDir = resolve(import.meta.dirname, '..', '..', 'packages', 'core', 'src', 'train');
const MAX_LINES = 80;

/** Every function-like node with a body in `text`, as `name (lines)` when longer than `max` lines. */
function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body !== undefined) {
      const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(n.end).line;
      const name = n.name?.getText(sf) ?? '(anonymous)';
      if (last - first + 1 > max) out.push(`${file}:${first + 1} ${name} (${last - first + 1} lines)`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('the training loop as parts', () => {
  it(`no function in core's train/ is longer than ${MAX_LINES} lines`, () => {
    const files = readdirSync(trainDir).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('loop.ts');
    const long = files.flatMap((f) => longFunctions(f, readFileSync(join(trainDir, f), 'utf8'), MAX_LINES));
    expect(long).toEqual([]);
  });

  it('the length check finds a long function, a long arrow and a long method', () => {
    const body = Array.from({ length: 81 }, (_, i) => `  x += ${i};`).join('\n');
    const text = `function f() {\n  let x = 0;\n${body}\n}\nconst g = () => {\n${body}\n};\nclass C {\n  m() {\n${body}\n  }\n}\nfunction short() {\n  return 1;\n}\n`;
    expect(longFunctions('t.ts', text, MAX_LINES).map((s) => s.split(' ')[1])).toEqual([
      'f',
      '(anonymous)',
      'm',
    ]);
  });
});
