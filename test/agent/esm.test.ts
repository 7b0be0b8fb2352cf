import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { ROOT, REGISTER_ESM, agentEnv, http, startApp, type AppProcess } from '../helpers/app';

describe('ESM app under --import', () => {
  let receiver: OtlpReceiver;
  let app: AppProcess;
  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    app = await startApp(['--import', REGISTER_ESM, join(ROOT, 'examples', 'esm-app', 'app.mjs')], agentEnv(receiver.url, { TRIPLINE_HTTP_ACCESS_LOG: 'all' }));
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  it('patches ESM imports of express: access records carry the route template', async () => {
    expect((await http(app.port, 'GET', '/users/42')).status).toBe(200);
    const recs = await receiver.waitFor((rs) => rs.some((r) => r.attributes['url.path'] === '/users/42'), 10_000, 'ESM access record');
    const rec = recs.find((r) => r.attributes['url.path'] === '/users/42') as FlatRecord;
    expect(rec.eventName).toBe('http.server.request');
    expect(rec.attributes['http.route']).toBe('/users/:id');
    expect(rec.attributes['client.address']).toBe('127.0.0.1');
  });

  it('derives security events from responses', async () => {
    await http(app.port, 'GET', '/secret');
    await http(app.port, 'GET', '/limited');
    await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authz_fail') && rs.some((r) => r.eventName === 'security.excess_rate_limit_exceeded'), 10_000, 'ESM security events');
    expect(receiver.byEvent('security.authz_fail')[0]?.attributes['http.route']).toBe('/secret');
  });
});
