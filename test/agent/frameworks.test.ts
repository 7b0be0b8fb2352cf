import { describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { ROOT, REGISTER_CJS, agentEnv, http, startApp } from '../helpers/app';
import { aliasDir } from '../helpers/alias';

const APPS = join(ROOT, 'test', 'agent', 'apps');

async function routeOf(script: string, path: string, extra: Array<[string, number]> = []): Promise<{ rec: FlatRecord; events: FlatRecord[] }> {
  const receiver = await new OtlpReceiver().start();
  const app = await startApp(['--require', REGISTER_CJS, script], agentEnv(receiver.url, { TRIPLINE_HTTP_ACCESS_LOG: 'all' }));
  try {
    expect((await http(app.port, 'GET', path)).status).toBe(200);
    for (const [p, status] of extra) expect((await http(app.port, 'GET', p)).status).toBe(status);
    await receiver.waitFor((rs) => rs.filter((r) => r.eventName === 'http.server.request').length >= 1 + extra.length, 10_000, 'access records');
    const rec = receiver.byEvent('http.server.request').find((r) => r.attributes['url.path'] === path) as FlatRecord;
    return { rec, events: receiver.records.filter((r) => r.eventName.startsWith('security.authz')) };
  } finally {
    await app.stop();
    await receiver.stop();
  }
}

describe('frameworks: the route template where the framework knows it', () => {
  it('Koa with @koa/router', async () => {
    const { rec, events } = await routeOf(join(APPS, 'koa-app.js'), '/items/7', [['/private', 401]]);
    expect(rec.attributes['http.route']).toBe('/items/:id');
    expect(events.map((e) => e.attributes['http.route'])).toEqual(['/private']);
  });

  it('Fastify 5', async () => {
    const { rec, events } = await routeOf(join(APPS, 'fastify-app.js'), '/orders/9', [['/locked', 403]]);
    expect(rec.attributes['http.route']).toBe('/orders/:id');
    expect(events[0]?.attributes['http.route']).toBe('/locked');
  });

  it('Express 4 (oldest supported major)', async () => {
    const dir = aliasDir('express', 'express-4');
    const script = join(dir, 'express-app.js');
    copyFileSync(join(ROOT, 'examples', 'express-app', 'app.js'), script);
    const { rec, events } = await routeOf(script, '/api/items', [['/admin/users', 401]]);
    expect(rec.attributes['http.route']).toBe('/api/items');
    expect(events[0]?.attributes['http.route']).toBe('/admin/users');
  });

  it('a plain node:http server: no route, but path, status and client', async () => {
    const { rec } = await routeOf(join(APPS, 'plain.js'), '/ok', [['/denied', 403]]);
    expect(rec.attributes['http.route']).toBeUndefined();
    expect(rec.attributes['url.path']).toBe('/ok');
    expect(rec.attributes['client.address']).toBe('127.0.0.1');
  });
});
