import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureManifest, fixturesDir, makeFixturesScript } from '../index.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('test fixtures', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'moprune-fixtures-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('regenerating them reproduces every committed byte', () => {
    execFileSync(process.execPath, [makeFixturesScript, tmp]);
    const committed = listFiles(fixturesDir);
    expect(listFiles(tmp)).toEqual(committed);
    for (const file of committed) {
      const a = readFileSync(join(fixturesDir, file));
      const b = readFileSync(join(tmp, file));
      expect(b.equals(a), `${file} changed`).toBe(true);
    }
  });

  it('the manifest lists every data file and stays small', () => {
    const data = listFiles(fixturesDir).filter((f) => f !== 'manifest.json');
    expect(Object.keys(fixtureManifest.files).sort()).toEqual(data);
    const total = data.reduce((s, f) => s + readFileSync(join(fixturesDir, f)).length, 0);
    expect(total).toBeLessThan(200_000);
  });
});
