import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { DIST, ROOT, REGISTER_CJS, agentEnv, http, startApp, type AppProcess } from '../helpers/app';
import { ensureCollector, otlpJson, sendOtlp, startCollector, type RunningCollector } from '../helpers/collector';

describe('end to end: app under the agent -> built collector -> backend', () => {
  let backend: OtlpReceiver;
  let col: RunningCollector;
  let app: AppProcess;
  beforeAll(async () => {
    ensureCollector();
    backend = await new OtlpReceiver().start();
    col = await startCollector(backend.url, { TRIPLINE_WINDOW: '2s' });
    app = await startApp(['--require', REGISTER_CJS, join(ROOT, 'test', 'agent', 'apps', 'api-app.js')], agentEnv(col.otlpUrl, { TRIPLINE_INDEX: join(DIST, 'index.js') }));
  }, 30 * 60_000);
  afterAll(async () => {
    await app?.stop();
    await col?.stop();
    await backend?.stop();
  });

  it('a brute force against one account raises an alert within seconds, and the raw events arrive too', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 12; i++) await http(app.port, 'POST', '/api/login', { username: 'erin', password: `guess${i}` });
    const recs = await backend.waitFor((rs) => rs.some((r) => r.attributes['security_rule.name'] === 'brute_force_user'), 15_000, 'brute force alert');
    const latency = Date.now() - t0;
    const alert = recs.find((r) => r.attributes['security_rule.name'] === 'brute_force_user') as FlatRecord;
    expect(alert.attributes['user.name']).toBe('erin');
    expect(alert.attributes['tripline.alert.count']).toBe(12);
    expect(alert.resource['service.name']).toBe('test-app');
    expect(latency).toBeLessThan(15_000);
    const raw = backend.byEvent('security.authn_login_fail');
    expect(raw).toHaveLength(12);
    expect(raw[0]?.resource['service.instance.id']).toEqual(expect.any(String));
    expect(JSON.stringify(backend.records)).not.toContain('guess1');
  });

  it('a privilege change made through the app is alerted on its own', async () => {
    await http(app.port, 'POST', '/api/users/9/role', { role: 'admin' }, { 'x-user': 'root' });
    const recs = await backend.waitFor((rs) => rs.some((r) => r.attributes['security_rule.name'] === 'privilege_change'), 10_000, 'privilege alert');
    const a = recs.find((r) => r.attributes['security_rule.name'] === 'privilege_change') as FlatRecord;
    expect(a.attributes['user.name']).toBe('root');
    expect(a.attributes['security.target.user.id']).toBe('9');
  });
});

describe('backend outage', () => {
  it('the backend goes away for a while and comes back: nothing is lost', async () => {
    ensureCollector();
    let backend = await new OtlpReceiver().start();
    const port = backend.port;
    const col = await startCollector(backend.url, { TRIPLINE_WINDOW: '60s' });
    try {
      const batch = (from: number, n: number) =>
        otlpJson(Array.from({ length: n }, (_, i) => ({ event: 'http.server.request', attrs: { 'tripline.test.seq': from + i, 'http.response.status_code': 200 }, severity: 9 })));
      await sendOtlp(col.otlpUrl, batch(0, 50));
      await backend.waitFor((rs) => rs.length >= 50, 10_000, 'first 50');
      await backend.stop();
      for (let b = 0; b < 5; b++) {
        await sendOtlp(col.otlpUrl, batch(50 + b * 50, 50));
        await new Promise((r) => setTimeout(r, 400));
      }
      await new Promise((r) => setTimeout(r, 2000));
      const first = backend.records;
      backend = await new OtlpReceiver({ port }).start();
      await backend.waitFor((rs) => new Set(rs.map((r) => r.attributes['tripline.test.seq'])).size >= 250, 60_000, 'the 250 records sent during the outage');
      const seqs = new Set([...first, ...backend.records].map((r) => r.attributes['tripline.test.seq']));
      for (let i = 0; i < 300; i++) expect(seqs.has(i)).toBe(true);
    } finally {
      await col.stop();
      await backend.stop();
    }
  }, 120_000);
});
