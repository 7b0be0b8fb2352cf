// Build step after tsc: copy the hand-written ESM preload next to the compiled CJS one, and check that
// src/version.ts matches package.json so records report the version that was installed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
fs.copyFileSync(path.join(root, 'src/register.mjs'), path.join(root, 'dist/register.mjs'));
const pkg = require(path.join(root, 'package.json'));
const version = fs.readFileSync(path.join(root, 'src/version.ts'), 'utf8');
if (!version.includes(`'${pkg.version}'`)) {
  console.error(`src/version.ts does not match package.json version ${pkg.version}`);
  process.exit(1);
}
fs.chmodSync(path.join(root, 'dist/cli.js'), 0o755);
