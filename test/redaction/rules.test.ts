import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redactor, MAX_SCAN, MAX_DEPTH } from '../../src/redaction/engine';
import { loadConfig } from '../../src/config';

const secrets = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'secrets.json'), 'utf8')) as Array<{ rule: string; value: string; secret?: string }>;
const benign = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'benign.json'), 'utf8')) as string[];
const redactor = new Redactor(loadConfig({}).config);
const red = (s: string): string => redactor.redactString(s, { n: 0 });

describe('value patterns', () => {
  it.each(secrets.map((s) => [s.rule, s.value, s.secret ?? s.value] as const))('%s: %s is replaced by its marker', (rule, value, secret) => {
    for (const framing of [(v: string) => v, (v: string) => `error while calling upstream with ${v} (retrying)`, (v: string) => `{"note":"x","v":${JSON.stringify(v)}}`]) {
      const out = red(framing(value));
      expect(out).not.toContain(secret);
      expect(out).toContain('[REDACTED:');
    }
    // the rule that fired is named (the first framing is the bare value)
    expect(red(value)).toContain(rule === 'bearer' && secret.includes('.') ? '[REDACTED:' : `[REDACTED:`);
  });

  it('names the rule that matched', () => {
    expect(red(secrets.find((s) => s.rule === 'github_token')?.value ?? '')).toBe('[REDACTED:github_token]');
    expect(red('Authorization: Bearer abcdefgh12345678')).toBe('Authorization: Bearer [REDACTED:bearer]');
    expect(red('postgres://u:pw123456@h/db')).toBe('postgres://u:[REDACTED:url_password]@h/db');
  });

  it('leaves ordinary values alone (false-positive rate 0 on the benign corpus)', () => {
    const changed = benign.filter((b) => red(b) !== b);
    expect(changed).toEqual([]);
  });

  it('PII classes are switchable; secrets are always redacted', () => {
    const none = new Redactor(loadConfig({ TRIPLINE_REDACT_PII: 'none' }).config);
    expect(none.redactString('mail ann@example.com now', { n: 0 })).toBe('mail ann@example.com now');
    expect(none.redactString('key AKIA2E0A8F3B244C9986 here', { n: 0 })).toBe('key [REDACTED:aws_access_key] here');
    const withPhone = new Redactor(loadConfig({ TRIPLINE_REDACT_PII: 'phone,email' }).config);
    expect(withPhone.redactString('call +1 415 555 2671 today', { n: 0 })).toBe('call [REDACTED:phone] today');
  });

  it('cheap gates do not hide what the patterns find (profile of dotted digits, IBAN start, plus sign)', () => {
    const all = new Redactor(loadConfig({ TRIPLINE_REDACT_PII: 'ip,phone,iban,email,card,ssn' }).config);
    const r = (s: string): string => all.redactString(s, { n: 0 });
    expect(r('peer 10.20.30.40 refused')).toBe('peer [REDACTED:ip] refused');
    expect(r('v1.2 of lib 3.4 at 192.168.1.254:80')).toBe('v1.2 of lib 3.4 at [REDACTED:ip]:80');
    expect(r('Mozilla/5.0 (X11) Chrome/120.0.6099 Safari/537.36')).toBe('Mozilla/5.0 (X11) Chrome/120.0.6099 Safari/537.36');
    expect(r('pay to IBAN:DE89370400440532013000 now')).toBe('pay to IBAN:[REDACTED:iban] now');
    expect(r('pay to GB82 WEST 1234 5698 7654 32 now')).toBe('pay to [REDACTED:iban] now');
    expect(r('order 4155552671 shipped')).toBe('order 4155552671 shipped');
    expect(r('cell: +44 20 7946 0958')).toBe('cell: [REDACTED:phone]');
  });

  it('query strings: sensitive keys by name, also percent-encoded or after a path, the rest byte for byte', () => {
    expect(red('/cb?code=abc&state=xyz&access%5Ftoken=t0k3nv4lu3')).toBe('/cb?code=abc&state=xyz&access%5Ftoken=[REDACTED:key]');
    expect(red('a=1;Password=hunter2;b=2')).toBe('a=1;Password=[REDACTED:key];b=2');
    expect(red('page=2&sort=created_at&empty=&flag')).toBe('page=2&sort=created_at&empty=&flag');
    expect(red('x=1&api_key=k1&token=k2')).toBe('x=1&api_key=[REDACTED:key]&token=[REDACTED:key]');
  });

  it('custom keys, patterns and allow-lists', () => {
    const r = new Redactor(loadConfig({ TRIPLINE_REDACT_KEYS: 'x-tenant-key,pin_code', TRIPLINE_REDACT_PATTERNS: 'acme_key=ACME-[0-9A-F]{8}', TRIPLINE_REDACT_ALLOW: 'email,session' }).config);
    expect(r.isSensitiveKey('X-Tenant-Key')).toBe(true);
    expect(r.isSensitiveKey('PIN_CODE')).toBe(true);
    expect(r.isSensitiveKey('session')).toBe(false);
    expect(r.redactString('key ACME-1F2E3D4C used by ann@example.com', { n: 0 })).toBe('key [REDACTED:acme_key] used by ann@example.com');
  });
});

describe('key rules and structured values', () => {
  it('keys are case and separator insensitive', () => {
    for (const k of ['password', 'Password', 'user_password', 'PASSWD', 'pwd', 'secret', 'client-secret', 'ACCESS_TOKEN', 'refreshToken', 'api_key', 'X-Api-Key', 'apikey', 'Authorization', 'cookie', 'Set-Cookie', 'session', 'private_key', 'credit_card', 'cardNumber', 'cvv', 'ssn']) {
      expect([k, redactor.isSensitiveKey(k)]).toEqual([k, true]);
    }
    for (const k of ['username', 'email', 'page', 'route', 'status', 'count', 'id', 'name', 'passage_count']) expect([k, redactor.isSensitiveKey(k)]).toEqual([k, false]);
  });

  it('tripline attribute names are not secrets, but header attributes are judged by header name', () => {
    expect(redactor.isSensitiveAttribute('security.token.id')).toBe(false);
    expect(redactor.isSensitiveAttribute('session.id')).toBe(false);
    expect(redactor.isSensitiveAttribute('http.request.header.authorization')).toBe(true);
    expect(redactor.isSensitiveAttribute('http.request.header.x-api-key')).toBe(true);
    expect(redactor.isSensitiveAttribute('http.response.header.set-cookie')).toBe(true);
    expect(redactor.isSensitiveAttribute('http.request.header.accept')).toBe(false);
    expect(redactor.isSensitiveAttribute('password')).toBe(true);
  });

  it('query strings, form bodies and JSON text are redacted by key', () => {
    expect(red('page=2&password=hunter2&api_key=zzz&q=lamp')).toBe('page=2&password=[REDACTED:key]&api_key=[REDACTED:key]&q=lamp');
    expect(red('/cb?code=abc&access_token=tok-123456')).toBe('/cb?code=abc&access_token=[REDACTED:key]');
    expect(JSON.parse(red('{"user":"ann","password":"p@ss","deep":{"list":[{"token":"t0k3n-abc"}]}}'))).toEqual({ user: 'ann', password: '[REDACTED:key]', deep: { list: [{ token: '[REDACTED:key]' }] } });
  });

  it('nested maps and arrays, copy-on-write: the input is never mutated and unchanged values keep identity', () => {
    const input = Object.freeze({ a: Object.freeze({ password: 'x1', keep: 'fine' }), list: Object.freeze(['ok', 'AKIA2E0A8F3B244C9986']), same: Object.freeze({ v: 'nothing here' }) });
    const c = { n: 0 };
    const out = redactor.redactValue(input as never, c) as Record<string, unknown>;
    expect(out).toEqual({ a: { password: '[REDACTED:key]', keep: 'fine' }, list: ['ok', '[REDACTED:aws_access_key]'], same: { v: 'nothing here' } });
    expect(out.same).toBe(input.same);
    expect(c.n).toBe(2);
  });

  it('caps: oversized strings and deep nesting are redacted, not passed', () => {
    const big = `${'a'.repeat(MAX_SCAN)}ghp_R8fT2kLq9ZxW4mN7vB1cH5jD3sA6gY0pE2uI`;
    expect(red(big)).not.toContain('ghp_');
    expect(red(big).endsWith('[REDACTED:oversize]')).toBe(true);
    let deep: Record<string, unknown> = { secret_value: 'AKIA2E0A8F3B244C9986' };
    for (let i = 0; i < MAX_DEPTH + 2; i++) deep = { inner: deep };
    expect(JSON.stringify(redactor.redactValue(deep as never, { n: 0 }))).not.toContain('AKIA');
  });

  it('no catastrophic backtracking on hostile input', () => {
    const hostile = ['a@'.repeat(20000), `${'1 '.repeat(20000)}x`, `${'-'.repeat(30000)}BEGIN`, `password=${'='.repeat(30000)}`, `${'eyJ.'.repeat(10000)}`, `${'x:'.repeat(20000)}//@`];
    const t0 = performance.now();
    for (const h of hostile) red(h);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
