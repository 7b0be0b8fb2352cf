import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { ROOT, REGISTER_CJS, agentEnv, http, startApp, type AppProcess } from '../helpers/app';

const APP = join(ROOT, 'examples', 'express-app', 'app.js');

// The same scenario over both wire formats the agent speaks.
describe.each(['http/protobuf', 'http/json'])('Express app under --require, OTLP %s', (protocol) => {
  let receiver: OtlpReceiver;
  let app: AppProcess;

  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    app = await startApp(['--require', REGISTER_CJS, APP], agentEnv(receiver.url, { OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: protocol, TRIPLINE_HTTP_ACCESS_LOG: 'all', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test' }));
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  it('ships the agent start record with the resource', async () => {
    await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.sys_startup'), 10_000, 'sys_startup');
    const start = receiver.byEvent('security.sys_startup')[0] as FlatRecord;
    expect(start.resource['service.name']).toBe('test-app');
    expect(start.resource['deployment.environment.name']).toBe('test');
    expect(typeof start.resource['service.instance.id']).toBe('string');
    expect(start.scope.name).toBe('tripline');
    expect(start.attributes['event.name']).toBe('security.sys_startup');
    const ct = receiver.requests[0]?.contentType ?? '';
    expect(ct).toContain(protocol === 'http/json' ? 'json' : 'protobuf');
  });

  it('turns requests into access records with route, status, client, user agent and duration', async () => {
    const r = await http(app.port, 'GET', '/api/items?page=2', undefined, { 'user-agent': 'vitest-agent/1.0' });
    expect(r.status).toBe(200);
    const recs = await receiver.waitFor((rs) => rs.some((x) => x.eventName === 'http.server.request' && x.attributes['url.path'] === '/api/items'), 10_000, 'access record');
    const rec = recs.find((x) => x.eventName === 'http.server.request' && x.attributes['url.path'] === '/api/items') as FlatRecord;
    expect(rec.attributes).toMatchObject({
      'event.name': 'http.server.request',
      'http.request.method': 'GET',
      'http.route': '/api/items',
      'url.path': '/api/items',
      'url.query': 'page=2',
      'http.response.status_code': 200,
      'client.address': '127.0.0.1',
      'user_agent.original': 'vitest-agent/1.0',
      'server.port': app.port,
    });
    expect(rec.attributes['http.server.request.duration_ms']).toBeGreaterThanOrEqual(0);
    expect(rec.severityText).toBe('INFO');
    expect(rec.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(rec.spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('records the security events a response implies, with the route template', async () => {
    expect((await http(app.port, 'GET', '/admin/users')).status).toBe(401);
    expect((await http(app.port, 'POST', '/admin/users/bob/role', { role: 'admin' })).status).toBe(403);
    for (let i = 0; i < 7; i++) await http(app.port, 'GET', '/api/search?q=x');
    expect((await http(app.port, 'POST', '/api/orders', { item: 'lamp', quantity: 0 })).status).toBe(422);
    expect((await http(app.port, 'POST', '/api/orders', '{bad json', { 'content-type': 'application/json' })).status).toBe(400);

    await receiver.waitFor(
      (rs) => rs.filter((x) => x.eventName === 'security.input_validation_fail').length >= 2 && rs.some((x) => x.eventName === 'security.excess_rate_limit_exceeded'),
      10_000,
      'status events',
    );
    const denied = receiver.byEvent('security.authz_fail');
    expect(denied.map((d) => d.attributes['http.response.status_code']).sort()).toEqual([401, 403]);
    const roleChange = denied.find((d) => d.attributes['http.response.status_code'] === 403) as FlatRecord;
    expect(roleChange.attributes['http.route']).toBe('/admin/users/:name/role');
    expect(roleChange.attributes['url.path']).toBe('/admin/users/bob/role');
    expect(roleChange.severityNumber).toBe(17);
    expect(roleChange.attributes['security.event.category']).toBe('authz');
    const limited = receiver.byEvent('security.excess_rate_limit_exceeded');
    expect(limited.length).toBe(2);
    expect(limited[0]?.severityText).toBe('WARN');
    expect(limited[0]?.attributes['client.address']).toBe('127.0.0.1');
    expect(receiver.byEvent('security.input_validation_fail').map((d) => d.attributes['http.response.status_code']).sort()).toEqual([400, 422]);
  });

  it('records a handler that throws as a 500 access record and the app keeps serving', async () => {
    expect((await http(app.port, 'GET', '/boom')).status).toBe(500);
    expect((await http(app.port, 'GET', '/')).status).toBe(200);
    const recs = await receiver.waitFor((rs) => rs.some((x) => x.attributes['url.path'] === '/boom'), 10_000, '/boom');
    const boom = recs.find((x) => x.attributes['url.path'] === '/boom') as FlatRecord;
    expect(boom.attributes['http.response.status_code']).toBe(500);
    expect(boom.severityText).toBe('ERROR');
  });

  it('continues the caller\'s trace (W3C traceparent) and gives each request its own trace otherwise', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await http(app.port, 'GET', '/denied-missing?t=1', undefined, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    await http(app.port, 'GET', '/denied-missing?t=2');
    await http(app.port, 'GET', '/denied-missing?t=3');
    const recs = await receiver.waitFor((rs) => ['t=1', 't=2', 't=3'].every((q) => rs.some((r) => r.eventName === 'http.server.request' && r.attributes['url.query'] === q)), 10_000, 'three access records');
    const byQuery = (q: string) => recs.find((r) => r.eventName === 'http.server.request' && r.attributes['url.query'] === q) as FlatRecord;
    expect(byQuery('t=1').traceId).toBe(traceId);
    expect(byQuery('t=1').spanId).not.toBe('00f067aa0ba902b7');
    expect(byQuery('t=2').traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(byQuery('t=2').traceId).not.toBe(byQuery('t=3').traceId);
  });

  it("does not record its own exports as client requests (which would feed themselves forever)", async () => {
    expect((await http(app.port, 'GET', '/')).status).toBe(200);
    await receiver.waitFor((rs) => rs.some((x) => x.eventName === 'http.server.request' && x.attributes['url.path'] === '/'), 10_000, 'access record');
    await new Promise((r) => setTimeout(r, 300));
    const before = receiver.requests.length;
    await new Promise((r) => setTimeout(r, 1500)); // idle: with a 50 ms batch delay a loop would export ~30 times
    expect(receiver.requests.length - before).toBeLessThanOrEqual(2);
    const own = receiver.records.filter((x) => x.eventName === 'http.client.request' && String(x.attributes['url.full'] ?? '').startsWith(receiver.url));
    expect(own).toEqual([]);
  });
});

describe('access log modes', () => {
  it.each([
    ['errors', ['/denied-missing'], ['/']],
    ['none', [], ['/', '/denied-missing']],
  ])('TRIPLINE_HTTP_ACCESS_LOG=%s ships only what it should, and security events always', async (mode, shipped, notShipped) => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, APP], agentEnv(receiver.url, { TRIPLINE_HTTP_ACCESS_LOG: mode }));
    try {
      await http(app.port, 'GET', '/');
      await http(app.port, 'GET', '/denied-missing');
      await http(app.port, 'GET', '/admin/users');
      await receiver.waitFor((rs) => rs.some((x) => x.eventName === 'security.authz_fail'), 10_000, 'authz_fail');
      await new Promise((r) => setTimeout(r, 300));
      const paths = receiver.byEvent('http.server.request').map((x) => x.attributes['url.path']);
      for (const p of shipped) expect(paths).toContain(p);
      for (const p of notShipped) expect(paths).not.toContain(p);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});

describe('attack syntax in requests', () => {
  it('path traversal, XSS, command injection and scanner user agents become malicious_* records before the app runs; ordinary traffic does not', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, APP], agentEnv(receiver.url));
    try {
      for (const p of ['/', '/api/items?page=2&sort=name', '/search?q=rock%20%26%20roll', '/docs/v1.2/index.html']) await http(app.port, 'GET', p);
      await http(app.port, 'GET', '/download?file=..%2F..%2F..%2Fetc%2Fpasswd');
      await http(app.port, 'GET', '/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E');
      await http(app.port, 'GET', '/ping?host=127.0.0.1%3Bcat%20%2Fetc%2Fshadow');
      for (let i = 0; i < 3; i++) await http(app.port, 'GET', `/admin/${i}`, undefined, { 'user-agent': 'sqlmap/1.7.2#stable (https://sqlmap.org)' });
      const recs = await receiver.waitFor((rs) => rs.filter((r) => r.eventName.startsWith('security.malicious_')).length >= 4, 10_000, 'attack records');
      await new Promise((r) => setTimeout(r, 300));
      const mal = receiver.records.filter((r) => r.eventName.startsWith('security.malicious_'));
      expect(mal.map((r) => `${r.eventName}:${String(r.attributes['security.signature'])}`).sort()).toEqual(
        [
          'security.malicious_attack_tool:scanner_user_agent',
          'security.malicious_cmdi:shell_command',
          'security.malicious_path_traversal:dot_dot_segment',
          'security.malicious_path_traversal:sensitive_file',
          'security.malicious_xss:script_injection',
        ].sort(),
      );
      const trav = mal.find((r) => r.attributes['security.signature'] === 'dot_dot_segment') as FlatRecord;
      expect(trav.attributes).toMatchObject({ 'security.outcome': 'attempt', 'security.attack.location': 'url.query', 'url.path': '/download', 'client.address': '127.0.0.1', 'security.event.category': 'malicious' });
      // the scanner: one record for its first request in the minute, not one per request
      expect(mal.filter((r) => r.eventName === 'security.malicious_attack_tool')).toHaveLength(1);
      expect(recs.length).toBeGreaterThan(0);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});
