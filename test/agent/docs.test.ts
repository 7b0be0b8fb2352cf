import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DIST, ROOT } from '../helpers/app';

describe('documentation and CLI', () => {
  it('the README documents every TRIPLINE_* variable exactly as src/config.ts defines it', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-env-doc.js'), '--check'], { encoding: 'utf8', env: { ...process.env, TRIPLINE_DIST: DIST.slice(ROOT.length + 1) } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the tripline command has help, env and doctor', () => {
    const cli = join(DIST, 'cli.js');
    const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: tripline/);
    expect(help.stdout).toMatch(/demo/);
    const env = spawnSync(process.execPath, [cli, 'env'], { encoding: 'utf8' });
    expect(env.stdout).toMatch(/TRIPLINE_HTTP_ACCESS_LOG\n {2}default: "errors"/);
    const bad = spawnSync(process.execPath, [cli, 'doctor'], { encoding: 'utf8', env: { PATH: process.env.PATH, TRIPLINE_USER_MODE: 'nobody' } });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/TRIPLINE_USER_MODE="nobody" is invalid/);
    const good = spawnSync(process.execPath, [cli, 'doctor', '--json'], { encoding: 'utf8', env: { PATH: process.env.PATH, TRIPLINE_HASH_KEY: 'a-very-secret-hash-key-value' } });
    expect(good.status).toBe(0);
    expect(good.stdout).not.toContain('a-very-secret-hash-key-value');
  });
});
