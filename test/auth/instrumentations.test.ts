import { describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { ROOT, REGISTER_CJS, REGISTER_ESM, agentEnv, http, startApp } from '../helpers/app';
import { aliasDir } from '../helpers/alias';

const APPS = join(ROOT, 'test', 'auth', 'apps');

function inAlias(name: string, alias: string | undefined, file: string): string {
  if (alias === undefined) return join(APPS, file);
  const dir = aliasDir(name, alias);
  copyFileSync(join(APPS, file), join(dir, file));
  return join(dir, file);
}

function cookieJar() {
  const jar = new Map<string, string>();
  return {
    header: (): string => [...jar.entries()].map(([k, v]) => `${k}=${v}`).join('; '),
    take: (setCookie: string | string[] | undefined): void => {
      for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
        const [kv] = c.split(';');
        const i = (kv ?? '').indexOf('=');
        if (i > 0) jar.set((kv ?? '').slice(0, i), (kv ?? '').slice(i + 1));
      }
    },
    values: (): string[] => [...jar.values()],
  };
}

describe.each([
  ['passport 0.7 (newest)', undefined],
  ['passport 0.6 (oldest)', 'passport-06'],
])('%s + passport-local + express-session + CSRF', (_label, alias) => {
  it('sign up, wrong passwords, unknown user, right password, logout: records with user, client and reason; no password or session cookie leaves', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, inAlias('passport', alias, 'passport-app.js')], agentEnv(receiver.url));
    const jar = cookieJar();
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await http(app.port, method, path, body, { cookie: jar.header(), 'x-csrf-token': csrf });
      jar.take(r.headers['set-cookie']);
      return r;
    };
    let csrf = '';
    try {
      const c = await http(app.port, 'GET', '/csrf');
      jar.take(c.headers['set-cookie']);
      csrf = (JSON.parse(c.body) as { token: string }).token;
      expect((await call('POST', '/signup', { email: 'gina@example.com', pass: 'Gina-Pa55-word' })).status).toBe(201);
      expect((await call('POST', '/login', { email: 'gina@example.com', pass: 'wrong-1' })).status).toBe(401);
      expect((await call('POST', '/login', 'email=gina%40example.com&pass=wrong-2')).status).toBe(401);
      expect((await call('POST', '/login', { email: 'nobody@example.com', pass: 'whatever-3' })).status).toBe(401);
      expect((await call('POST', '/login', { email: 'gina@example.com', pass: 'Gina-Pa55-word' })).status).toBe(200);
      // the login regenerated the session (fixation defence), which the CSRF token is bound to
      const c2 = await http(app.port, 'GET', '/csrf', undefined, { cookie: jar.header() });
      jar.take(c2.headers['set-cookie']);
      csrf = (JSON.parse(c2.body) as { token: string }).token;
      expect((await call('GET', '/me')).status).toBe(200);
      const loggedInCookie = jar.header();
      expect((await call('POST', '/logout')).status).toBe(200);
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authn_logout'), 10_000, 'logout');
      // the logged-out session's cookie replayed (logout regenerated it), then a forged one
      expect((await http(app.port, 'GET', '/me', undefined, { cookie: loggedInCookie })).status).toBe(401);
      expect((await http(app.port, 'GET', '/me', undefined, { cookie: 'connect.sid=s%3AforgedSessionId123.bm90LWEtc2lnbmF0dXJl' })).status).toBe(401);
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.input_validation_fail'), 10_000, 'forged session cookie');
      const replay = receiver.byEvent('security.session_use_after_expire');
      expect(replay).toHaveLength(1);
      expect(replay[0]?.attributes).toMatchObject({ 'security.reason': 'unknown_or_expired_session', 'client.address': '127.0.0.1', 'url.path': '/me' });
      expect(String(replay[0]?.attributes['session.id'])).toMatch(/^hmac:[0-9a-f]{32}$/);
      const forged = receiver.byEvent('security.input_validation_fail');
      expect(forged.map((r) => r.attributes['security.reason'])).toEqual(['session_cookie_signature']);
      expect(receiver.allBytes().toString('latin1')).not.toContain('forgedSessionId123');
      // the anonymous session issued by the first GET /csrf, then the one passport's login established
      const created = receiver.byEvent('security.session_created');
      expect(created[0]?.attributes['user.name']).toBeUndefined();
      expect(created[0]?.attributes['url.path']).toBe('/csrf');
      const fails = receiver.byEvent('security.authn_login_fail');
      expect(fails.map((f) => [f.attributes['user.name'], f.attributes['security.reason']])).toEqual([
        ['gina@example.com', 'bad_credentials'],
        ['gina@example.com', 'bad_credentials'],
        ['nobody@example.com', 'unknown_user'],
      ]);
      for (const f of fails) expect(f.attributes).toMatchObject({ 'client.address': '127.0.0.1', 'security.auth.method': 'local', 'http.route': '/login' });
      expect(receiver.byEvent('security.authz_fail').filter((r) => r.attributes['url.path'] === '/login')).toHaveLength(0);
      expect(receiver.byEvent('security.authn_login_success')[0]?.attributes['user.name']).toBe('gina@example.com');
      expect(receiver.byEvent('security.authn_login_successafterfail')[0]?.attributes['security.auth.previous_failures']).toBe(2);
      expect(created.filter((r) => r.attributes['user.name'] === 'gina@example.com')).toHaveLength(1);
      expect(receiver.byEvent('security.session_renewed').length).toBeGreaterThanOrEqual(1);
      expect(String(receiver.byEvent('security.session_renewed')[0]?.attributes['session.id'])).toMatch(/^hmac:[0-9a-f]{32}$/);
      expect(receiver.byEvent('security.authn_logout')[0]?.attributes['user.name']).toBe('gina@example.com');
      const bytes = receiver.allBytes().toString('latin1');
      for (const s of ['Gina-Pa55-word', 'wrong-1', 'wrong-2', 'whatever-3', ...jar.values().map((v) => decodeURIComponent(v))]) expect(bytes).not.toContain(s);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});

describe.each([
  ['jsonwebtoken 9 (newest)', undefined],
  ['jsonwebtoken 8 (oldest)', 'jsonwebtoken-8'],
])('%s', (_label, alias) => {
  it('expired, tampered, malformed and valid tokens, sync and callback', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, inAlias('jsonwebtoken', alias, 'jwt-app.js')], agentEnv(receiver.url));
    try {
      const tok = async (sub: string, exp: number) => (JSON.parse((await http(app.port, 'POST', '/token', { sub, exp })).body) as { token: string }).token;
      const valid = await tok('user-17', 60);
      const expired = await tok('user-18', -10);
      const [h, p, s] = valid.split('.');
      const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', roles: ['admin'] })).toString('base64url')}.${s}`;
      expect((await http(app.port, 'GET', '/api/data', undefined, { authorization: `Bearer ${valid}` })).status).toBe(200);
      expect((await http(app.port, 'GET', '/api/data', undefined, { authorization: `Bearer ${expired}` })).status).toBe(401);
      expect((await http(app.port, 'GET', '/api/data?cb=1', undefined, { authorization: `Bearer ${tampered}` })).status).toBe(401);
      expect((await http(app.port, 'GET', '/api/data', undefined, { authorization: 'Bearer not.a.jwt' })).status).toBe(401);
      expect(p).toBeDefined();
      await receiver.waitFor((rs) => rs.filter((r) => r.eventName === 'security.authn_token_invalid').length >= 3, 10_000, 'token records');
      const inv = receiver.byEvent('security.authn_token_invalid');
      expect(inv.map((r) => r.attributes['security.reason'])).toEqual(['expired', 'bad_signature', 'malformed']);
      expect(inv[0]?.attributes['user.name']).toBe('user-18');
      expect(String(inv[0]?.attributes['security.token.id'])).toMatch(/^hmac:/);
      expect(inv[1]?.attributes['user.name']).toBe('admin');
      const bytes = receiver.allBytes().toString('latin1');
      for (const t of [valid, expired, tampered]) expect(bytes).not.toContain(t.split('.')[2] as string);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});

describe.each([
  ['jose 6 (newest, ESM only)', undefined],
  ['jose 5 (oldest)', 'jose-5'],
])('%s in an ESM app under --import', (_label, alias) => {
  it('expired, wrong audience and valid tokens', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--import', REGISTER_ESM, inAlias('jose', alias, 'jose-app.mjs')], agentEnv(receiver.url));
    try {
      const tok = async (sub: string, exp: string) => (JSON.parse((await http(app.port, 'POST', '/token', { sub, exp })).body) as { token: string }).token;
      const valid = await tok('ivy', '1m');
      const expired = await tok('jack', '-1m');
      expect((await http(app.port, 'GET', '/api/data', undefined, { authorization: `Bearer ${valid}` })).status).toBe(200);
      expect((await http(app.port, 'GET', '/api/data', undefined, { authorization: `Bearer ${expired}` })).status).toBe(401);
      expect((await http(app.port, 'GET', '/api/data?aud=other', undefined, { authorization: `Bearer ${valid}` })).status).toBe(401);
      await receiver.waitFor((rs) => rs.filter((r) => r.eventName === 'security.authn_token_invalid').length >= 2, 10_000, 'jose token records');
      expect(receiver.byEvent('security.authn_token_invalid').map((r) => [r.attributes['security.reason'], r.attributes['user.name']])).toEqual([
        ['expired', 'jack'],
        ['wrong_audience', 'ivy'],
      ]);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});
