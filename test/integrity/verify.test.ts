import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtlpReceiver } from '../helpers/otlp-receiver';
import { DIST, ROOT, REGISTER_CJS, agentEnv, http, startApp } from '../helpers/app';
import { ensureCollector, startCollector } from '../helpers/collector';

const KEY = 'an-integrity-key-of-at-least-32-characters!';
type Doc = { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Array<Record<string, unknown>> }> }> };

function verify(file: string, ...args: string[]): { code: number | null; out: string; json: { ok: boolean; streams: Array<{ issues: Array<{ kind: string; position?: number }> }> } } {
  const r = spawnSync(process.execPath, [join(DIST, 'cli.js'), 'verify', file, '--key', KEY, ...args], { encoding: 'utf8' });
  const j = spawnSync(process.execPath, [join(DIST, 'cli.js'), 'verify', file, '--key', KEY, '--json', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr, json: JSON.parse(j.stdout) as never };
}

describe('tamper evidence: the chain survives the collector, and tripline verify names every kind of tampering', () => {
  let archive: string;
  let lines: Doc[];
  let pubPath: string;
  const work = mkdtempSync(join(tmpdir(), 'tl-verify-'));

  beforeAll(async () => {
    ensureCollector();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const privPath = join(work, 'signing.pem');
    pubPath = join(work, 'signing.pub.pem');
    writeFileSync(privPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pubPath, publicKey.export({ type: 'spki', format: 'pem' }));
    const backend = await new OtlpReceiver().start();
    const col = await startCollector(backend.url, { TRIPLINE_WINDOW: '2s' });
    const app = await startApp(['--require', REGISTER_CJS, join(ROOT, 'test', 'agent', 'apps', 'api-app.js')], agentEnv(col.otlpUrl, { TRIPLINE_INDEX: join(DIST, 'index.js'), TRIPLINE_INTEGRITY_KEY: KEY, TRIPLINE_SIGNING_KEY_FILE: privPath, TRIPLINE_CHECKPOINT_INTERVAL_MS: '1000', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' }));
    for (let i = 0; i < 6; i++) await http(app.port, 'POST', '/api/login', { username: `u${i}`, password: 'nope' });
    await new Promise((r) => setTimeout(r, 1200));
    for (let i = 0; i < 6; i++) await http(app.port, 'GET', `/api/docs/${i}`);
    await app.stop();
    await backend.waitFor((rs) => rs.some((r) => r.eventName === 'security.integrity_end'), 15_000, 'the end record');
    await new Promise((r) => setTimeout(r, 1500));
    await col.stop();
    await backend.stop();
    archive = join(col.dataDir, 'events.jsonl');
    lines = readFileSync(archive, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Doc);
  }, 10 * 60_000);

  afterAll(() => undefined);

  const flat = (docs: Doc[]): Array<Record<string, unknown>> => docs.flatMap((d) => d.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
  /** Rewrite the archive with one record per line, after fn edits the record list. */
  function tampered(name: string, fn: (recs: Array<Record<string, unknown>>) => void): string {
    const base = lines[0] as Doc;
    const recs = flat(lines).map((r) => JSON.parse(JSON.stringify(r)) as Record<string, unknown>);
    fn(recs);
    const out = recs.map((r) => JSON.stringify({ resourceLogs: [{ ...base.resourceLogs[0], scopeLogs: [{ ...base.resourceLogs[0]?.scopeLogs[0], logRecords: [r] }] }] }));
    const p = join(work, name);
    writeFileSync(p, `${out.join('\n')}\n`);
    return p;
  }
  const kinds = (p: string): string[] => verify(p).json.streams.flatMap((s) => s.issues.map((i) => i.kind));

  it('the untouched archive written by the collector verifies, signatures included', () => {
    const r = verify(archive, '--public-key', pubPath);
    expect(r.out).toContain('VERIFIED');
    expect(r.code).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(flat(lines).length).toBeGreaterThan(14);
  });

  it('one record per line (re-batched) still verifies', () => {
    expect(verify(tampered('rebatched.jsonl', () => undefined)).code).toBe(0);
  });

  it('modify: an attribute changed', () => {
    const p = tampered('modified.jsonl', (recs) => {
      const r = recs.find((x) => JSON.stringify(x).includes('security.authn_login_fail')) as { attributes: Array<{ key: string; value: { stringValue?: string } }> };
      const u = r.attributes.find((a) => a.key === 'user.name');
      if (u) u.value = { stringValue: 'someone-else' };
    });
    expect(kinds(p)).toContain('modified');
    expect(verify(p).code).toBe(1);
    expect(verify(p).out).toMatch(/MODIFIED at position \d+/);
  });

  it('delete: a record removed from the middle', () => {
    expect(kinds(tampered('deleted.jsonl', (recs) => recs.splice(5, 1)))).toContain('deleted');
  });

  it('reorder: two records swapped', () => {
    const k = kinds(
      tampered('reordered.jsonl', (recs) => {
        const a = recs[3] as Record<string, unknown>;
        recs[3] = recs[6] as Record<string, unknown>;
        recs[6] = a;
      }),
    );
    expect(k).toContain('reordered');
  });

  it('insert: a forged record with a made-up chain', () => {
    const k = kinds(
      tampered('inserted.jsonl', (recs) => {
        const forged = JSON.parse(JSON.stringify(recs[4])) as { attributes: Array<{ key: string; value: { stringValue?: string } }> };
        const u = forged.attributes.find((a) => a.key === 'user.name');
        if (u) u.value = { stringValue: 'ghost' };
        recs.splice(5, 0, forged as never);
      }),
    );
    expect(k).toContain('inserted');
  });

  it('replay: a record sent twice', () => {
    expect(kinds(tampered('replayed.jsonl', (recs) => recs.splice(7, 0, JSON.parse(JSON.stringify(recs[2])) as never)))).toContain('replayed');
  });

  it('truncate: the head and the tail', () => {
    expect(kinds(tampered('head.jsonl', (recs) => recs.splice(0, 2)))).toContain('truncated_head');
    expect(kinds(tampered('tail.jsonl', (recs) => recs.splice(recs.length - 2, 2)))).toContain('truncated_tail');
  });

  it('a wrong key verifies nothing', () => {
    const r = spawnSync(process.execPath, [join(DIST, 'cli.js'), 'verify', archive, '--key', 'x'.repeat(40)], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAILED');
  });
});
