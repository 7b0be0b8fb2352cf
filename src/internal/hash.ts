import { createHmac, randomBytes } from 'node:crypto';

let key: Buffer = randomBytes(32);

/** Set the key for keyed hashes (TRIPLINE_HASH_KEY); unset keeps a random per-process key. */
export function setHashKey(k: string | undefined): void {
  key = k === undefined ? randomBytes(32) : Buffer.from(k, 'utf8');
}

/**
 * Keyed hash (HMAC-SHA256, truncated to 128 bits, hex) so equal inputs correlate without revealing them.
 * Prefixed so a reader knows the value is a hash, not an identifier.
 */
export function keyedHash(value: string): string {
  return `hmac:${createHmac('sha256', key).update(value).digest('hex').slice(0, 32)}`;
}
