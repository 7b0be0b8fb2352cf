import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { ROOT, REGISTER_CJS, agentEnv, http, startApp } from '../helpers/app';

const EXAMPLE = join(ROOT, 'examples', 'express-app', 'app.js');

describe('login-route heuristics (hand-written login, no passport, no code change)', () => {
  it('Express /login with JSON and form bodies: failures, success after failures, user and client, never the password', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, EXAMPLE], agentEnv(receiver.url, { TRIPLINE_HTTP_ACCESS_LOG: 'all' }));
    try {
      await http(app.port, 'POST', '/login', { username: 'alice', password: 'Wrong-Pa55-one' });
      await http(app.port, 'POST', '/login', 'username=alice&password=Wrong-Pa55-two');
      expect((await http(app.port, 'POST', '/login', { username: 'alice', password: 'correct horse battery staple' })).status).toBe(200);
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authn_login_success'), 10_000, 'login success');
      const fails = receiver.byEvent('security.authn_login_fail');
      expect(fails).toHaveLength(2);
      for (const f of fails) {
        expect(f.attributes).toMatchObject({ 'user.name': 'alice', 'client.address': '127.0.0.1', 'security.reason': 'bad_credentials', 'security.auth.method': 'login_route', 'http.route': '/login' });
      }
      // the refused login is an authentication failure, not an authorization one
      expect(receiver.byEvent('security.authz_fail')).toHaveLength(0);
      const after = receiver.byEvent('security.authn_login_successafterfail')[0] as FlatRecord;
      expect(after.attributes['security.auth.previous_failures']).toBe(2);
      // the successful login's access record names the user
      const access = receiver.byEvent('http.server.request').filter((r) => r.attributes['http.response.status_code'] === 200 && r.attributes['url.path'] === '/login');
      expect(access[0]?.attributes['user.name']).toBe('alice');
      const bytes = receiver.allBytes().toString('latin1');
      for (const secret of ['Wrong-Pa55-one', 'Wrong-Pa55-two', 'correct horse battery staple']) expect(bytes).not.toContain(secret);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });

  it('a plain node:http form login that redirects: the body is read without disturbing the app', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, join(ROOT, 'test', 'auth', 'apps', 'form-login.js')], agentEnv(receiver.url));
    try {
      const bad = await http(app.port, 'POST', '/signin', 'email=frank%40example.com&pass=nope');
      expect(bad.headers.location).toBe('/signin?error=1');
      const good = await http(app.port, 'POST', '/signin', 'email=frank%40example.com&pass=open+sesame');
      expect(good.headers.location).toBe('/dashboard');
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authn_login_success'), 10_000, 'login success');
      expect(receiver.byEvent('security.authn_login_fail')[0]?.attributes['user.name']).toBe('frank@example.com');
      expect(receiver.byEvent('security.authn_login_success')[0]?.attributes['user.name']).toBe('frank@example.com');
      expect(receiver.allBytes().toString('latin1')).not.toContain('open sesame');
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });

  it('TRIPLINE_LOGIN_ROUTES narrows the routes, and an API-recorded attempt is not recorded twice', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, EXAMPLE], agentEnv(receiver.url, { TRIPLINE_LOGIN_ROUTES: 'POST /auth/token' }));
    try {
      await http(app.port, 'POST', '/login', { username: 'alice', password: 'bad' });
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authz_fail'), 10_000, 'authz_fail for a non-login route');
      expect(receiver.byEvent('security.authn_login_fail')).toHaveLength(0);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});

describe('admin activity', () => {
  it('a successful request to an admin route is security.authz_admin; a refused one is only authz_fail', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, EXAMPLE], agentEnv(receiver.url));
    try {
      await http(app.port, 'GET', '/admin/users');
      const login = await http(app.port, 'POST', '/login', { username: 'admin', password: 'admin-very-secret' });
      const token = (JSON.parse(login.body) as { token: string }).token;
      expect((await http(app.port, 'GET', '/admin/users', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authz_admin'), 10_000, 'authz_admin');
      const admin = receiver.byEvent('security.authz_admin');
      expect(admin).toHaveLength(1);
      expect(admin[0]?.attributes).toMatchObject({ 'http.route': '/admin/users', 'security.outcome': 'success', 'security.admin.reason': 'admin_route' });
      expect(receiver.byEvent('security.authz_fail')).toHaveLength(1);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});

describe('TRIPLINE_USER_MODE', () => {
  it.each([
    ['anonymize', (v: unknown) => expect(String(v)).toMatch(/^hmac:[0-9a-f]{32}$/)],
    ['off', (v: unknown) => expect(v).toBeUndefined()],
    ['identify', (v: unknown) => expect(v).toBe('alice')],
  ])('%s', async (mode, check) => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, EXAMPLE], agentEnv(receiver.url, { TRIPLINE_USER_MODE: mode, TRIPLINE_HASH_KEY: 'a-stable-hash-key-for-tests' }));
    try {
      await http(app.port, 'POST', '/login', { username: 'alice', password: 'x1' });
      await http(app.port, 'POST', '/login', { username: 'alice', password: 'x2' });
      await receiver.waitFor((rs) => rs.filter((r) => r.eventName === 'security.authn_login_fail').length >= 2, 10_000, 'two failures');
      const [a, b] = receiver.byEvent('security.authn_login_fail');
      check(a?.attributes['user.name']);
      // stable, so the collector still correlates the attempts
      expect(a?.attributes['user.name']).toEqual(b?.attributes['user.name']);
      if (mode !== 'identify') expect(receiver.allBytes().toString('latin1')).not.toContain('alice');
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});
