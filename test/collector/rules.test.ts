import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { COLLECTOR_BIN, COLLECTOR_CONFIG, ensureCollector, otlpJson, sendOtlp, startCollector, type RunningCollector } from '../helpers/collector';

const WINDOW_S = 3;

type Rec = Parameters<typeof otlpJson>[0][number];
const fail = (user: string, addr: string): Rec => ({ event: 'security.authn_login_fail', attrs: { 'user.name': user, 'client.address': addr, 'security.reason': 'bad_credentials' } });
const times = (n: number, f: (i: number) => Rec): Rec[] => Array.from({ length: n }, (_, i) => f(i));
const todayAtUtc = (h: number): number => {
  const d = new Date();
  d.setUTCHours(h, 0, 0, 0);
  return d.getTime();
};

describe('otel-collector.yaml on the built collector', () => {
  beforeAll(() => ensureCollector(), 30 * 60_000);

  it('the collector validates the config', () => {
    const r = spawnSync(COLLECTOR_BIN, ['validate', '--config', COLLECTOR_CONFIG], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).not.toMatch(/Error/);
    expect(r.status).toBe(0);
  });

  describe('detection rules: each fires on its attack, and stays quiet just under its threshold', () => {
    let backend: OtlpReceiver;
    let col: RunningCollector;
    let sent = 0;
    const send = async (recs: Rec[], resource?: Record<string, string>): Promise<void> => {
      sent += recs.length;
      await sendOtlp(col.otlpUrl, otlpJson(recs, resource));
    };
    const alerts = (rule: string): FlatRecord[] => backend.records.filter((r) => r.eventName === 'security.alert' && r.attributes['security_rule.name'] === rule);

    beforeAll(async () => {
      backend = await new OtlpReceiver().start();
      col = await startCollector(backend.url, { TRIPLINE_WINDOW: `${WINDOW_S}s` });
      // brute force per user: 10 failures for victim1 from 10 addresses; 9 for victim2 (under)
      await send(times(10, (i) => fail('victim1', `203.0.113.${i + 1}`)));
      await send(times(9, (i) => fail('victim2', `203.0.113.${i + 101}`)));
      // brute force per source: 10 failures from one address, against one account; 9 from another
      await send(times(10, () => fail('svc', '198.51.100.10')));
      await send(times(9, () => fail('svc2', '198.51.100.11')));
      // credential stuffing: 5 distinct users from .20; 4 from .21
      await send(times(5, (i) => fail(`user${i}`, '198.51.100.20')));
      await send(times(4, (i) => fail(`other${i}`, '198.51.100.21')));
      // access denied spike: 20 from .30, 19 from .31
      const denied = (addr: string): Rec => ({ event: 'security.authz_fail', attrs: { 'client.address': addr, 'http.response.status_code': 403 } });
      await send([...times(20, () => denied('198.51.100.30')), ...times(19, () => denied('198.51.100.31'))]);
      // 404 scanning: 20 from .40, 19 from .41
      const nf = (addr: string, i: number): Rec => ({ event: 'http.server.request', attrs: { 'client.address': addr, 'http.response.status_code': 404, 'url.path': `/wp-admin/${i}.php` } });
      await send([...times(20, (i) => nf('198.51.100.40', i)), ...times(19, (i) => nf('198.51.100.41', i))]);
      // rate-limit bursts: 10 from .50, 9 from .51
      const rl = (addr: string): Rec => ({ event: 'security.excess_rate_limit_exceeded', attrs: { 'client.address': addr } });
      await send([...times(10, () => rl('198.51.100.50')), ...times(9, () => rl('198.51.100.51'))]);
      // per-event rules
      await send([
        { event: 'security.authz_change', attrs: { 'user.name': 'mallory', 'security.target.user.name': 'mallory', 'security.privilege.to': 'admin' }, body: 'privileges changed' },
        { event: 'security.authz_admin', attrs: { 'user.name': 'night-owl', 'http.route': '/admin/export' }, timeMs: todayAtUtc(3), body: 'admin route' },
        { event: 'security.authz_admin', attrs: { 'user.name': 'day-worker', 'http.route': '/admin/export' }, timeMs: todayAtUtc(12), body: 'admin route' },
        { event: 'security.malicious_sqli', attrs: { 'security.signature': 'tautology', 'http.route': '/api/products', 'client.address': '198.51.100.60' }, severity: 21, body: 'SQL injection signature' },
        { event: 'security.sensitive_read', attrs: { 'db.collection.name': 'accounts', 'db.response.returned_rows': 500 }, body: 'bulk read' },
        { event: 'security.mcp_tools_changed', attrs: { 'mcp.tool.name': 'exec' }, body: 'tool list changed' },
        { event: 'security.sys_monitor', attrs: { 'tripline.records.dropped': 5 }, body: 'heartbeat' },
        { event: 'security.sys_monitor', attrs: { 'tripline.records.dropped': 0 }, body: 'heartbeat' },
      ]);
      // normal traffic of similar volume: must raise nothing
      await send(times(60, (i) => ({ event: 'http.server.request', attrs: { 'client.address': '192.0.2.7', 'http.response.status_code': 200, 'url.path': `/products/${i}` }, severity: 9 })));
      await send(times(20, (i) => ({ event: 'security.authn_login_success', attrs: { 'user.name': `happy${i}`, 'client.address': '192.0.2.8' }, severity: 9 })));
      // Windows are tumbling: wait for two of them (+ stage 2 of stuffing) and the batch.
      await backend.waitFor((rs) => rs.filter((r) => r.eventName !== 'security.alert').length >= sent, 20_000, 'every raw record');
      await new Promise((r) => setTimeout(r, (2 * WINDOW_S + 4) * 1000));
    }, 120_000);

    afterAll(async () => {
      await col?.stop();
      await backend?.stop();
    });

    it('brute force per user: victim1 alerted, victim2 (9 failures) not', () => {
      const a = alerts('brute_force_user');
      expect(a.map((x) => x.attributes['user.name']).sort()).toEqual(['svc', 'victim1']);
      const v = a.find((x) => x.attributes['user.name'] === 'victim1') as FlatRecord;
      expect(v.attributes['tripline.alert.count']).toBe(10);
      expect(v.severityText).toBe('ERROR');
    });

    it('brute force per source: .10 alerted, .11 not', () => {
      expect(alerts('brute_force_source').map((x) => x.attributes['client.address'])).toEqual(['198.51.100.10']);
    });

    it('credential stuffing counts distinct users: .20 (5 users) alerted, .21 (4) not', () => {
      const a = alerts('credential_stuffing');
      expect(a.map((x) => x.attributes['client.address'])).toEqual(['198.51.100.20']);
      expect(a[0]?.attributes['tripline.alert.count']).toBe(5);
    });

    it('windowed spikes: access denied, 404 scanning, rate-limit bursts (and not their under-threshold twins)', () => {
      expect(alerts('access_denied_spike').map((x) => x.attributes['client.address'])).toEqual(['198.51.100.30']);
      expect(alerts('scanning_404').map((x) => x.attributes['client.address'])).toEqual(['198.51.100.40']);
      expect(alerts('rate_limit_burst').map((x) => x.attributes['client.address'])).toEqual(['198.51.100.50']);
    });

    it('per-event rules: privilege change, off-hours admin only off hours, SQL injection, bulk read, MCP, agent dropping', () => {
      expect(alerts('privilege_change').map((x) => x.attributes['user.name'])).toEqual(['mallory']);
      expect(alerts('offhours_admin').map((x) => x.attributes['user.name'])).toEqual(['night-owl']);
      const sqli = alerts('sql_injection');
      expect(sqli).toHaveLength(1);
      expect(sqli[0]?.severityText).toBe('FATAL');
      expect(sqli[0]?.attributes['security.signature']).toBe('tautology');
      expect(alerts('sensitive_bulk_read')[0]?.attributes['db.response.returned_rows']).toBe(500);
      expect(alerts('mcp_tool_misuse')).toHaveLength(1);
      expect(alerts('agent_trouble').map((x) => x.attributes['tripline.records.dropped'])).toEqual([5]);
    });

    it('normal traffic raised nothing, and every alert is one of the above', () => {
      const all = backend.records.filter((r) => r.eventName === 'security.alert');
      expect(all).toHaveLength(13); // brute_force_user twice (victim1, svc), eleven other rules once
      expect(all.some((a) => a.attributes['client.address'] === '192.0.2.7' || a.attributes['client.address'] === '192.0.2.8')).toBe(false);
    });

    it('alerts carry the rule metadata and the evidence', () => {
      for (const a of backend.records.filter((r) => r.eventName === 'security.alert')) {
        expect(a.attributes['event.name']).toBe('security.alert');
        expect(a.attributes['security_rule.ruleset.name']).toBe('tripline');
        expect(a.attributes['security_rule.uuid']).toMatch(/^[0-9a-f-]{36}$/);
        expect(a.attributes['security_rule.version']).toBe('1');
        expect(String(a.attributes['security_rule.reference'])).toMatch(/OWASP|MITRE/);
        expect(typeof a.attributes['security_rule.category']).toBe('string');
        expect(a.attributes['tripline.alert.count']).toBeGreaterThanOrEqual(1);
        expect(typeof a.attributes['tripline.alert.source_event']).toBe('string');
        expect(a.severityNumber).toBeGreaterThanOrEqual(13);
      }
      const bf = alerts('brute_force_source')[0] as FlatRecord;
      expect(bf.attributes['tripline.alert.window']).toBe(`${WINDOW_S}s`);
      expect(String(bf.attributes['tripline.alert.first_seen'])).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(String(bf.attributes['tripline.alert.last_seen'])).toMatch(/^\d{4}-\d\d-\d\dT/);
    });

    it('raw events reach the backend unchanged, and counts are exported as metrics', () => {
      const raw = backend.records.filter((r) => r.eventName !== 'security.alert');
      expect(raw).toHaveLength(sent);
      expect(raw.find((r) => r.eventName === 'security.authz_change')?.resource['service.instance.id']).toBe('i-1');
      const metrics = backend.requests.filter((r) => r.path === '/v1/metrics').map((r) => r.raw.toString());
      expect(metrics.join('\n')).toContain('tripline.records');
      expect(metrics.join('\n')).toContain('tripline.alerts');
      expect(metrics.join('\n')).toContain('tripline.agent.heartbeats');
    });
  });
});
