import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { ClientAddressResolver } from '../../src/net/client-address';
import { OtlpReceiver } from '../helpers/otlp-receiver';
import { ROOT, REGISTER_CJS, agentEnv, http, startApp } from '../helpers/app';

function req(peer: string, xff?: string | string[]): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } } as unknown as IncomingMessage;
}

describe('ClientAddressResolver (trusted proxies, right to left)', () => {
  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    expect(new ClientAddressResolver([]).resolve(req('203.0.113.9', '1.2.3.4'))).toBe('203.0.113.9');
  });
  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(new ClientAddressResolver(['10.0.0.0/8']).resolve(req('203.0.113.9', '1.2.3.4'))).toBe('203.0.113.9');
  });
  it('takes the right-most untrusted hop; a spoofed left-most entry does not win', () => {
    const r = new ClientAddressResolver(['10.0.0.0/8', '192.168.1.1']);
    expect(r.resolve(req('10.1.2.3', '6.6.6.6, 198.51.100.7, 192.168.1.1'))).toBe('198.51.100.7');
  });
  it('handles several headers, ports, IPv6 and IPv4-mapped peers', () => {
    const r = new ClientAddressResolver(['loopback', 'private']);
    expect(r.resolve(req('::ffff:127.0.0.1', ['198.51.100.7:5555', '10.0.0.2']))).toBe('198.51.100.7');
    expect(r.resolve(req('::1', '[2001:db8::1]:443'))).toBe('2001:db8::1');
    expect(r.resolve(req('::1', '2001:db8::2'))).toBe('2001:db8::2');
  });
  it('falls back to the last trusted hop on a malformed entry, and to the left-most when all are trusted', () => {
    const r = new ClientAddressResolver(['private']);
    expect(r.resolve(req('10.0.0.1', 'not-an-ip, 10.0.0.5'))).toBe('10.0.0.5');
    expect(r.resolve(req('10.0.0.1', '10.0.0.9, 10.0.0.5'))).toBe('10.0.0.9');
  });
});

describe('client.address end to end', () => {
  it.each([
    ['', '127.0.0.1'],
    ['loopback', '198.51.100.7'],
  ])('TRIPLINE_TRUSTED_PROXIES=%j gives %s for a forwarded request', async (trusted, expected) => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, join(ROOT, 'examples', 'express-app', 'app.js')], agentEnv(receiver.url, { TRIPLINE_TRUSTED_PROXIES: trusted }));
    try {
      await http(app.port, 'GET', '/admin/users', undefined, { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' });
      const recs = await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authz_fail'), 10_000, 'authz_fail');
      expect(recs.find((r) => r.eventName === 'security.authz_fail')?.attributes['client.address']).toBe(expected);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});
