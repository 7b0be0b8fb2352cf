import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './app';

/**
 * A folder (inside the repo, so the rest of node_modules still resolves) where `require(name)` loads
 * the package installed under an alias, e.g. express 4 installed as `express-4`. The package is copied,
 * not linked, so its path really reads node_modules/<name> — what instrumentations match on.
 * Returns the folder; put the test app there.
 */
export function aliasDir(name: string, alias: string): string {
  const dir = join(ROOT, '.build', 'alias', `${alias}`);
  const target = join(dir, 'node_modules', name);
  if (!existsSync(join(target, 'package.json'))) {
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    cpSync(join(ROOT, 'node_modules', alias), target, { recursive: true });
  }
  return dir;
}
