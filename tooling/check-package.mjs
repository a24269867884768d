#!/usr/bin/env node
// What publint and attw do not check about a package as it appears on the registry,
// run from the package's directory by its `check:package` script:
// - LICENSE is the repository's LICENSE, byte for byte (npm packs it whatever `files` says);
// - `repository` is the root package.json's, with `directory` pointing at this package;
// - README.md has no relative links (they break on the registry page);
// - `typesVersions` maps every subpath of `exports` to its import types, so consumers
//   with `moduleResolution: node10` resolve `@moprune/x/sub` (attw's node10 column checks it resolves).
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const dir = process.cwd();
const root = resolve(dir, '..', '..');
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const problems = [];

if (readFileSync(join(dir, 'LICENSE'), 'utf8') !== readFileSync(join(root, 'LICENSE'), 'utf8')) {
  problems.push("LICENSE differs from the repository's LICENSE (copy it)");
}
const want = { ...rootPkg.repository, directory: `packages/${basename(dir)}` };
if (JSON.stringify(pkg.repository) !== JSON.stringify(want)) {
  problems.push(`repository must be ${JSON.stringify(want)}, is ${JSON.stringify(pkg.repository)}`);
}
const readme = readFileSync(join(dir, 'README.md'), 'utf8');
for (const [, target] of readme.matchAll(/\]\(([^)\s]+)[^)]*\)/g)) {
  if (!/^(https?:|mailto:|#)/.test(target))
    problems.push(`README.md links to '${target}', which breaks on the registry page`);
}
const subpaths = Object.keys(pkg.exports ?? {}).filter((k) => k !== '.' && k !== './package.json');
const mapped = pkg.typesVersions?.['*'] ?? {};
for (const sub of subpaths) {
  const types = pkg.exports[sub].import.types;
  const key = sub.replace(/^\.\//, '');
  if (JSON.stringify(mapped[key]) !== JSON.stringify([types])) {
    problems.push(
      `typesVersions['*']['${key}'] must be ["${types}"] (node10 consumers of '${pkg.name}/${key}')`,
    );
  }
}
for (const key of Object.keys(mapped)) {
  if (!subpaths.includes(`./${key}`))
    problems.push(`typesVersions maps '${key}', which exports does not have`);
}
if (problems.length > 0) {
  console.error(`${pkg.name}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`${pkg.name}: LICENSE, repository, README links, typesVersions ok`);
