import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { DIST, ROOT, REGISTER_CJS, agentEnv, http, startApp, type AppProcess } from '../helpers/app';

const NS = `tl_${process.pid}_${Date.now() % 100000}`;

describe('database instrumentation on real PostgreSQL, MariaDB and Redis', () => {
  let receiver: OtlpReceiver;
  let app: AppProcess;
  const q = (pred: (r: FlatRecord) => boolean): FlatRecord[] => receiver.records.filter(pred);
  const get = (path: string, user = 'dana') => http(app.port, 'GET', path, undefined, { 'x-user': user });

  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    app = await startApp(['--require', REGISTER_CJS, join(ROOT, 'test', 'db', 'apps', 'db-app.js')], agentEnv(receiver.url, { TRIPLINE_INDEX: join(DIST, 'index.js'), DB_NS: NS, TRIPLINE_DB_QUERY_LOG: 'all' }), { timeoutMs: 30_000 });
  }, 60_000);
  afterAll(async () => {
    if (app !== undefined) {
      await http(app.port, 'POST', '/teardown').catch(() => undefined);
      await app.stop();
    }
    await receiver?.stop();
  });

  describe('pg', () => {
    it('records queries with semantic attributes, literals stripped, linked to the request and user', async () => {
      expect((await get('/pg/products/safe?category=home')).status).toBe(200);
      const recs = await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'db.client.query' && r.attributes['url.path'] === '/pg/products/safe'), 10_000, 'pg query record');
      const rec = recs.find((r) => r.eventName === 'db.client.query' && r.attributes['url.path'] === '/pg/products/safe') as FlatRecord;
      expect(rec.attributes).toMatchObject({
        'db.system.name': 'postgresql',
        'db.namespace': 'test',
        'db.operation.name': 'SELECT',
        'db.collection.name': `${NS}.products`,
        'db.query.summary': `SELECT ${NS}.products`,
        'db.query.text': `SELECT id, name FROM ${NS}.products WHERE category = $1`,
        'db.response.returned_rows': 1,
        'server.address': '127.0.0.1',
        'server.port': 5432,
        'user.name': 'dana',
        'client.address': '127.0.0.1',
        'http.route': '/pg/products/safe',
        'db.query.parameterized': true,
      });
      expect(rec.traceId).toMatch(/^[0-9a-f]{32}$/);
    });

    it('a secret literal in a statement appears nowhere in the exported bytes; neither does the connection password', async () => {
      expect((await http(app.port, 'POST', '/pg/notes', { literal: 'TopSecret-Literal-9931' })).status).toBe(201);
      await receiver.waitFor((rs) => rs.some((r) => r.attributes['db.operation.name'] === 'INSERT' && String(r.attributes['db.collection.name']).endsWith('notes')), 10_000, 'insert record');
      const bytes = receiver.allBytes().toString('latin1');
      expect(bytes).not.toContain('TopSecret-Literal-9931');
      expect(bytes).not.toContain('pg-Secret-Pass-42');
    });

    it('callback-style queries are recorded too', async () => {
      expect(JSON.parse((await get('/pg/callback')).body)).toEqual({ n: 2 });
      await receiver.waitFor((rs) => rs.some((r) => r.attributes['url.path'] === '/pg/callback' && r.eventName === 'db.client.query'), 10_000, 'callback query');
    });

    it('injection through a concatenating route alerts; the same strings as bound parameters do not', async () => {
      const payloads = ["x' OR '1'='1", "x'; DROP TABLE users; --", "x' UNION SELECT name, role FROM users --", "x' AND pg_sleep(0) IS NOT NULL --"];
      for (const p of payloads) {
        await get(`/pg/products?category=${encodeURIComponent(p)}`, 'mallory');
        await get(`/pg/products/safe?category=${encodeURIComponent(p)}`, 'mallory');
      }
      await get(`/pg/products/${encodeURIComponent('1 OR 1=1')}`, 'mallory');
      await receiver.waitFor((rs) => rs.filter((r) => r.eventName === 'security.malicious_sqli').length >= payloads.length + 1, 10_000, 'sqli events');
      await new Promise((r) => setTimeout(r, 300));
      const hits = q((r) => r.eventName === 'security.malicious_sqli' && r.attributes['db.system.name'] === 'postgresql');
      expect(hits).toHaveLength(payloads.length + 1);
      expect(hits.every((h) => h.attributes['http.route'] !== '/pg/products/safe')).toBe(true);
      for (const h of hits) {
        expect(h.attributes['user.name']).toBe('mallory');
        expect(String(h.attributes['security.signature'])).toContain('input_breakout');
        expect(h.severityText).toBe('FATAL');
      }
      const sigs = hits.map((h) => String(h.attributes['security.signature'])).join(' ');
      for (const s of ['tautology', 'stacked_query', 'union_select', 'time_based']) expect(sigs).toContain(s);
      // the full payload never leaves unredacted: the record carries the literal-free statement
      expect(hits[0]?.attributes['db.query.text']).not.toContain("'1'='1'");
    });

    it('a role change and a bulk read of a sensitive table are security events', async () => {
      await http(app.port, 'POST', '/pg/users/bob/role', { role: 'admin' }, { 'x-user': 'root' });
      await get('/pg/accounts', 'eve');
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.sensitive_read' && r.attributes['db.system.name'] === 'postgresql') && rs.some((r) => r.eventName === 'security.authz_change' && r.attributes['db.system.name'] === 'postgresql'), 10_000, 'pg security events');
      const change = q((r) => r.eventName === 'security.authz_change' && r.attributes['db.system.name'] === 'postgresql')[0] as FlatRecord;
      expect(change.attributes).toMatchObject({ 'user.name': 'root', 'security.privilege.columns': ['role'], 'db.response.affected_rows': 1 });
      expect(q((r) => r.eventName === 'security.sensitive_update' && r.attributes['db.system.name'] === 'postgresql')).toHaveLength(1);
      const bulk = q((r) => r.eventName === 'security.sensitive_read' && r.attributes['db.system.name'] === 'postgresql')[0] as FlatRecord;
      expect(bulk.attributes).toMatchObject({ 'db.response.returned_rows': 150, 'user.name': 'eve', 'tripline.bulk_read_threshold': 100 });
    });
  });

  describe('mysql2 (promise pool) on MariaDB', () => {
    it('records queries and execute() with attributes and the user', async () => {
      await get('/my/products/safe?category=home');
      const recs = await receiver.waitFor((rs) => rs.some((r) => r.attributes['db.system.name'] === 'mysql' && r.attributes['url.path'] === '/my/products/safe'), 10_000, 'mysql record');
      const rec = recs.find((r) => r.attributes['db.system.name'] === 'mysql' && r.attributes['url.path'] === '/my/products/safe') as FlatRecord;
      expect(rec.attributes).toMatchObject({ 'db.operation.name': 'SELECT', 'db.collection.name': `${NS}.products`, 'db.query.text': `SELECT id, name FROM ${NS}.products WHERE category = ?`, 'db.response.returned_rows': 1, 'user.name': 'dana', 'server.port': 3306, 'db.namespace': 'test' });
    });

    it('injection alerts on the concatenating route, not on execute() nor on client-side interpolated values', async () => {
      const payloads = ["x' OR '1'='1", "x' UNION SELECT name, role FROM users #", "x' OR SLEEP(0) #"];
      for (const p of payloads) {
        await get(`/my/products?category=${encodeURIComponent(p)}`, 'mallory');
        await get(`/my/products/safe?category=${encodeURIComponent(p)}`, 'mallory');
        await get(`/my/products/interp?category=${encodeURIComponent(p)}`, 'mallory');
      }
      await receiver.waitFor((rs) => rs.filter((r) => r.eventName === 'security.malicious_sqli' && r.attributes['db.system.name'] === 'mysql').length >= payloads.length, 10_000, 'mysql sqli');
      await new Promise((r) => setTimeout(r, 300));
      const hits = q((r) => r.eventName === 'security.malicious_sqli' && r.attributes['db.system.name'] === 'mysql' && String(r.attributes['http.route']).startsWith('/my/'));
      expect(hits.map((h) => h.attributes['http.route'])).toEqual(payloads.map(() => '/my/products'));
    });

    it('a role change and a bulk read', async () => {
      await http(app.port, 'POST', '/my/users/bob/role', { role: 'admin' }, { 'x-user': 'root' });
      await get('/my/accounts', 'eve');
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.sensitive_read' && r.attributes['db.system.name'] === 'mysql') && rs.some((r) => r.eventName === 'security.authz_change' && r.attributes['db.system.name'] === 'mysql'), 10_000, 'mysql security events');
      expect(q((r) => r.eventName === 'security.authz_change' && r.attributes['db.system.name'] === 'mysql')[0]?.attributes['user.name']).toBe('root');
      expect(q((r) => r.eventName === 'security.sensitive_read' && r.attributes['db.system.name'] === 'mysql')[0]?.attributes['db.response.returned_rows']).toBe(150);
    });
  });

  describe('mysql 2.x (legacy client, pool) on MariaDB', () => {
    it('records callback and streamed queries; injection only on the concatenating route; role change and bulk read', async () => {
      const legacy = (r: FlatRecord): boolean => String(r.attributes['http.route'] ?? '').startsWith('/legacy/');
      await get('/legacy/products/safe?category=home');
      const payloads = ["x' OR '1'='1", "x' UNION SELECT name, role FROM users #"];
      for (const p of payloads) {
        await get(`/legacy/products?category=${encodeURIComponent(p)}`, 'mallory');
        await get(`/legacy/products/safe?category=${encodeURIComponent(p)}`, 'mallory');
      }
      await http(app.port, 'POST', '/legacy/users/bob/role', { role: 'owner' }, { 'x-user': 'root' });
      expect(JSON.parse((await get('/legacy/accounts/stream', 'eve')).body)).toEqual({ n: 150 });
      await receiver.waitFor((rs) => rs.some((r) => legacy(r) && r.eventName === 'security.sensitive_read'), 10_000, 'legacy bulk read');
      await new Promise((r) => setTimeout(r, 300));
      const safe = q((r) => legacy(r) && r.eventName === 'db.client.query' && r.attributes['url.path'] === '/legacy/products/safe')[0] as FlatRecord;
      expect(safe.attributes).toMatchObject({ 'db.system.name': 'mysql', 'db.operation.name': 'SELECT', 'db.collection.name': `${NS}.products`, 'db.query.text': `SELECT id, name FROM ${NS}.products WHERE category = ?`, 'db.response.returned_rows': 1, 'user.name': 'dana', 'server.port': 3306, 'db.namespace': 'test' });
      expect(q((r) => legacy(r) && r.eventName === 'security.malicious_sqli').map((h) => h.attributes['http.route'])).toEqual(payloads.map(() => '/legacy/products'));
      expect(q((r) => legacy(r) && r.eventName === 'security.authz_change')[0]?.attributes).toMatchObject({ 'user.name': 'root', 'db.response.affected_rows': 1 });
      expect(q((r) => legacy(r) && r.eventName === 'security.sensitive_read')[0]?.attributes).toMatchObject({ 'db.response.returned_rows': 150, 'user.name': 'eve' });
    });
  });

  describe('ioredis', () => {
    it('records commands with keys but never values or AUTH arguments; FLUSHDB is a security event', async () => {
      expect(JSON.parse((await http(app.port, 'POST', '/redis/session', { id: 'abc', value: 'redis-value-Secret-55' }, { 'x-user': 'dana' })).body)).toEqual({ ok: true });
      await http(app.port, 'POST', '/redis/flush', {}, { 'x-user': 'ops' });
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.sensitive_delete' && r.attributes['db.system.name'] === 'redis'), 10_000, 'redis flush event');
      const set = q((r) => r.attributes['db.system.name'] === 'redis' && r.attributes['db.operation.name'] === 'SET')[0] as FlatRecord;
      expect(set.attributes).toMatchObject({ 'db.query.text': 'SET session:abc ? ? ?', 'user.name': 'dana', 'db.namespace': '9', 'server.port': 6379 });
      const auth = q((r) => r.attributes['db.system.name'] === 'redis' && r.attributes['db.operation.name'] === 'AUTH')[0] as FlatRecord;
      expect(auth.attributes['db.query.text']).toBe('AUTH ?');
      expect(auth.attributes['error.type']).toBeDefined();
      const bytes = receiver.allBytes().toString('latin1');
      expect(bytes).not.toContain('redis-value-Secret-55');
      expect(bytes).not.toContain('redis-Secret-Pass-7');
      expect(q((r) => r.eventName === 'security.sensitive_delete')[0]?.attributes['user.name']).toBe('ops');
    });
  });
});
