import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * client.address that an attacker cannot spoof with X-Forwarded-For.
 *
 * Walk the X-Forwarded-For chain from the right (the entry the nearest proxy appended) towards the
 * left, skipping addresses of trusted proxies; the first untrusted entry is the client. With no
 * trusted proxies configured, the socket peer is the client and the header is ignored.
 */
export class ClientAddressResolver {
  private readonly trusted: BlockList | undefined;

  constructor(trustedProxies: readonly string[]) {
    if (trustedProxies.length === 0) {
      this.trusted = undefined;
      return;
    }
    const bl = new BlockList();
    for (const entry of trustedProxies) addTrusted(bl, entry);
    this.trusted = bl;
  }

  isTrusted(addr: string): boolean {
    if (this.trusted === undefined) return false;
    const type = isIP(addr);
    if (type === 0) return false;
    return this.trusted.check(addr, type === 4 ? 'ipv4' : 'ipv6');
  }

  resolve(req: IncomingMessage): string | undefined {
    const peer = normalizeAddress(req.socket?.remoteAddress);
    if (this.trusted === undefined || peer === undefined || !this.isTrusted(peer)) return peer;
    const xff = req.headers['x-forwarded-for'];
    const chain = Array.isArray(xff) ? xff.join(',') : xff;
    if (chain === undefined || chain === '') return peer;
    const hops = chain.split(',');
    let last = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(stripPort((hops[i] ?? '').trim()));
      // A malformed hop was written by a trusted proxy's client: the proxy we trust is the last we know.
      if (hop === undefined || isIP(hop) === 0) return last;
      if (!this.isTrusted(hop)) return hop;
      last = hop;
    }
    return last;
  }
}

function stripPort(s: string): string {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    return end > 0 ? s.slice(1, end) : s;
  }
  const colon = s.indexOf(':');
  // a.b.c.d:port (IPv6 has several colons and no port unless bracketed)
  if (colon > 0 && s.indexOf(':', colon + 1) === -1) return s.slice(0, colon);
  return s;
}

/** A socket's address as a client address: IPv4-mapped IPv6 ("::ffff:1.2.3.4") as plain IPv4. */
export function normalizeAddress(addr: string | undefined): string | undefined {
  if (addr === undefined || addr === '') return undefined;
  if (addr.startsWith('::ffff:') && addr.includes('.')) return addr.slice(7);
  return addr;
}

function addTrusted(bl: BlockList, entry: string): void {
  switch (entry) {
    case 'loopback':
      bl.addSubnet('127.0.0.0', 8, 'ipv4');
      bl.addAddress('::1', 'ipv6');
      return;
    case 'private':
      bl.addSubnet('10.0.0.0', 8, 'ipv4');
      bl.addSubnet('172.16.0.0', 12, 'ipv4');
      bl.addSubnet('192.168.0.0', 16, 'ipv4');
      bl.addSubnet('fc00::', 7, 'ipv6');
      return;
    case 'uniquelocal':
      bl.addSubnet('fc00::', 7, 'ipv6');
      return;
    case 'linklocal':
      bl.addSubnet('169.254.0.0', 16, 'ipv4');
      bl.addSubnet('fe80::', 10, 'ipv6');
      return;
  }
  const [addr = '', bits] = entry.split('/');
  const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
  if (bits === undefined) bl.addAddress(addr, type);
  else bl.addSubnet(addr, Number(bits), type);
}
