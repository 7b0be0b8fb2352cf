// Regenerate the TRIPLINE_* table in README.md from the one table in src/config.ts (after a build).
// `node scripts/gen-env-doc.js --check` exits 1 when the README is out of date (a test runs it).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
const dist = process.env.TRIPLINE_DIST ? path.join(root, process.env.TRIPLINE_DIST) : path.join(root, 'dist');
const { SPECS } = require(path.join(dist, 'config.js'));
const esc = (s) => String(s).replace(/\|/g, '\\|');
const dflt = (v) => (v === undefined ? 'unset' : Array.isArray(v) ? (v.length === 0 ? 'empty' : `\`${v.join(',')}\``) : `\`${v}\``);
const rows = SPECS.map((s) => `| \`${s.env}\` | ${esc(dflt(s.default))} | ${esc(s.accepts)} | ${esc(s.doc)} |`);
const table = ['| variable | default | accepted | meaning |', '|---|---|---|---|', ...rows].join('\n');
const readmePath = path.join(root, 'README.md');
const readme = fs.readFileSync(readmePath, 'utf8');
const re = /(<!-- tripline-env:start -->\n)[\s\S]*?(<!-- tripline-env:end -->)/;
if (!re.test(readme)) {
  console.error('README.md has no tripline-env markers');
  process.exit(1);
}
const next = readme.replace(re, `$1${table}\n$2`);
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('README.md variable table is out of date: run `npm run build && node scripts/gen-env-doc.js`');
    process.exit(1);
  }
} else {
  fs.writeFileSync(readmePath, next);
}
