import type { AnyValue } from '@opentelemetry/api-logs';
import type { TriplineConfig } from '../config';
import { BUILTIN_PATTERNS, customPatterns, profile, type ValuePattern } from './patterns';

/** Longest string scanned; the rest is replaced by [REDACTED:oversize], never passed unscanned. */
export const MAX_SCAN = 64 * 1024;
export const MAX_DEPTH = 8;
const MAX_ITEMS = 1000;
/** Values shorter than this carry no secret a pattern could recognise (key rules still apply). */
const MIN_SCAN = 8;

export const marker = (rule: string): string => `[REDACTED:${rule}]`;

/** Normalise a key name: lower case, separators removed ("X-Api_Key" -> "xapikey"). */
export function normalizeKey(k: string): string {
  let out = '';
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c === 45 || c === 95 || c === 46 || c === 32) continue;
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : k[i];
  }
  return out;
}

const EXACT_KEYS = ['pwd', 'pass', 'passwd', 'cvv', 'cvc', 'cvv2', 'ssn', 'session', 'sid', 'otp', 'pin', 'auth', 'jwt', 'bearer', 'cookie', 'cookies', 'setcookie', 'authorization', 'proxyauthorization', 'xapikey', 'iban', 'mfacode', 'totp'];
const CONTAINS_KEYS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'privatekey', 'authorization', 'cookie', 'creditcard', 'cardnumber', 'accesskey', 'sessionid', 'sessionkey', 'credential', 'signingkey', 'encryptionkey', 'socialsecurity', 'securitycode'];
/** tripline's own attribute namespaces: their values are scanned, but their names are not secrets. */
const OWN_PREFIXES = ['security.', 'tripline.', 'event.', 'user.', 'db.', 'http.', 'url.', 'server.', 'client.', 'network.', 'error.', 'mcp.', 'session.id', 'audit.', 'service.', 'exception.', 'user_agent.', 'process.', 'telemetry.'];
const IDENTITY_KEYS = new Set(['user.name', 'user.id', 'user.email', 'client.address', 'security.target.user.name', 'security.target.user.id', 'network.peer.address']);
const HEADER_PREFIXES = ['http.request.header.', 'http.response.header.'];
const DEFAULT_HEADERS = ['authorization', 'proxyauthorization', 'cookie', 'setcookie', 'xapikey', 'xauthtoken', 'xaccesstoken', 'xcsrftoken', 'xxsrftoken'];

export interface Counter {
  n: number;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    // decode what can be decoded
    try {
      return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
        try {
          return decodeURIComponent(m);
        } catch {
          return m;
        }
      });
    } catch {
      return undefined;
    }
  }
}

/** Bounded memo of strings already scanned and found clean: logs repeat routes, agents, paths. */
const CLEAN_MAX = 4096;
const CLEAN_LEN = 512;

export class Redactor {
  private clean = new Set<string>();
  private readonly attrKeys = new Map<string, boolean>();
  private readonly keys = new Map<string, boolean>();
  private readonly exact: Set<string>;
  private readonly contains: string[];
  private readonly allowKeys: Set<string>;
  private readonly headers: Set<string>;
  private readonly patterns: ValuePattern[];
  /** Secrets only: for identifiers detection needs (user.name, client.address), governed by TRIPLINE_USER_MODE. */
  private readonly secretPatterns: ValuePattern[];

  constructor(config: Pick<TriplineConfig, 'redactKeys' | 'redactPatterns' | 'redactAllow' | 'redactPii'>) {
    const allow = new Set(config.redactAllow.map(normalizeKey));
    this.allowKeys = allow;
    this.exact = new Set(EXACT_KEYS);
    for (const k of config.redactKeys) this.exact.add(normalizeKey(k));
    this.contains = CONTAINS_KEYS.filter((k) => !allow.has(k));
    this.headers = new Set([...DEFAULT_HEADERS, ...config.redactKeys.map(normalizeKey)]);
    const pii = new Set<string>(config.redactPii);
    const allowRules = new Set(config.redactAllow.map((r) => r.toLowerCase()));
    this.patterns = [...customPatterns(config.redactPatterns), ...BUILTIN_PATTERNS].filter((p) => (p.pii === undefined || pii.has(p.pii)) && !allowRules.has(p.name));
    this.secretPatterns = this.patterns.filter((p) => p.pii === undefined);
  }

  /** Identity attributes keep personal data (user mode decides), but never a secret. */
  isIdentityAttribute(key: string): boolean {
    return IDENTITY_KEYS.has(key);
  }

  /** Is this key's value a secret whatever it looks like? Memoized: keys repeat (page, sort, id). */
  isSensitiveKey(key: string): boolean {
    if (key.length > 64) return this.sensitiveKey(key);
    let v = this.keys.get(key);
    if (v === undefined) {
      v = this.sensitiveKey(key);
      if (this.keys.size >= 4096) this.keys.clear();
      this.keys.set(key, v);
    }
    return v;
  }

  private sensitiveKey(key: string): boolean {
    const n = normalizeKey(key);
    if (this.allowKeys.has(n)) return false;
    if (this.exact.has(n)) return true;
    for (const c of this.contains) if (n.includes(c)) return true;
    return false;
  }

  /** Key rule for a top-level record attribute (tripline's own keys are exempt, headers by name). Memoized. */
  isSensitiveAttribute(key: string): boolean {
    let v = this.attrKeys.get(key);
    if (v === undefined) {
      v = this.sensitiveAttribute(key);
      if (this.attrKeys.size < 4096) this.attrKeys.set(key, v);
    }
    return v;
  }

  private sensitiveAttribute(key: string): boolean {
    for (const h of HEADER_PREFIXES) {
      if (key.startsWith(h)) {
        const name = normalizeKey(key.slice(h.length));
        return this.headers.has(name) || this.isSensitiveKey(name);
      }
    }
    for (const p of OWN_PREFIXES) if (key.startsWith(p)) return false;
    return this.isSensitiveKey(key);
  }

  /** Redact a string: structured forms (JSON, query/form strings) by key, then value patterns. */
  redactString(input: string, c: Counter, depth = 0, secretsOnly = false): string {
    let s = input;
    let tail = '';
    if (s.length > MAX_SCAN) {
      s = s.slice(0, MAX_SCAN);
      tail = marker('oversize');
      c.n++;
    }
    if (s.length < MIN_SCAN || s.startsWith('[REDACTED')) return s + tail;
    const memo = s.length <= CLEAN_LEN && tail === '' ? (secretsOnly ? undefined : this.clean) : undefined;
    if (memo?.has(s) === true) return s;
    const before = c.n;
    const out = this.redactFresh(s, c, depth, secretsOnly);
    if (memo !== undefined && c.n === before && out === s) {
      if (memo.size >= CLEAN_MAX) this.clean = new Set();
      this.clean.add(s);
    }
    return out + tail;
  }

  private redactFresh(input: string, c: Counter, depth: number, secretsOnly: boolean): string {
    let s = input;
    const first = s.charCodeAt(0);
    if ((first === 123 || first === 91) && depth < MAX_DEPTH) {
      const structured = this.redactJsonText(s, c, depth);
      if (structured !== undefined) return structured;
    }
    s = this.redactQueryLike(s, c);
    s = this.scan(s, c, secretsOnly);
    // A secret may travel percent-encoded (a URL inside a query parameter): look at the decoded form,
    // and when it hides something, keep the decoded, redacted text.
    if (s.includes('%')) {
      const decoded = safeDecode(s);
      if (decoded !== undefined && decoded !== s) {
        const before = c.n;
        const scanned = this.scan(decoded, c, secretsOnly);
        if (c.n > before) s = scanned;
      }
    }
    return s;
  }

  /** Value patterns over free text. */
  scan(s: string, c: Counter, secretsOnly = false): string {
    if (s.length < MIN_SCAN) return s;
    const patterns = secretsOnly ? this.secretPatterns : this.patterns;
    const p = profile(s);
    let out = s;
    let lowered: string | undefined;
    const lower = (): string => (lowered ??= out.toLowerCase());
    for (const pat of patterns) {
      if (!pat.gate(p, out, lower)) continue;
      pat.re.lastIndex = 0;
      if (!pat.re.test(out)) continue;
      pat.re.lastIndex = 0;
      const g = pat.group;
      const m = marker(pat.name);
      out = out.replace(pat.re, (whole: string, ...groups: unknown[]) => {
        const secret = g === undefined ? whole : String(groups[g - 1] ?? '');
        if (secret === '' || secret.startsWith('[REDACTED') || (pat.validate !== undefined && !pat.validate(secret))) return whole;
        c.n++;
        if (g === undefined) return m;
        // keep the prefix groups (e.g. "Bearer ", "password=") and replace the secret group
        let prefix = '';
        for (let i = 0; i < g - 1; i++) prefix += String(groups[i] ?? '');
        return prefix + m + whole.slice(prefix.length + secret.length);
      });
      lowered = undefined;
    }
    return out;
  }

  /** a=1&password=x style strings (URL queries, form bodies, cookies): sensitive keys by name. */
  private redactQueryLike(s: string, c: Counter): string {
    const eq = s.indexOf('=');
    if (eq <= 0) return s;
    // a query string or form body: no spaces before the first '=', pairs joined by & or ;
    const q = s.indexOf('?');
    const start = q !== -1 && q < eq ? q + 1 : 0;
    const head = s.slice(start, eq);
    if (head.includes(' ') || head.includes('\n') || head.length > 128) return s;
    // one pass over the pairs, no split: most pairs are clean and the string is returned as it came
    let out: string | undefined;
    let from = start; // start of the text not yet copied to out
    let i = start;
    while (i < s.length) {
      let end = i;
      while (end < s.length) {
        const ch = s.charCodeAt(end);
        if (ch === 38 || ch === 59) break; // & ;
        end++;
      }
      const e = s.indexOf('=', i);
      if (e > i && e < end - 1) {
        let key = s.slice(i, e).trim();
        if (key.includes('%') || key.includes('+')) {
          try {
            key = decodeURIComponent(key.replace(/\+/g, ' '));
          } catch {
            // keep the raw key
          }
        }
        if (this.isSensitiveKey(key) && !s.startsWith('[REDACTED', e + 1)) {
          out = (out ?? s.slice(0, start)) + s.slice(from, e + 1) + marker('key');
          from = end;
          c.n++;
        }
      }
      i = end + 1;
    }
    return out === undefined ? s : out + s.slice(from);
  }

  private redactJsonText(s: string, c: Counter, depth: number): string | undefined {
    const last = s.charCodeAt(s.length - 1);
    if (last !== 125 && last !== 93) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      return undefined;
    }
    const before = c.n;
    const red = this.redactValue(parsed as AnyValue, c, depth + 1);
    return c.n === before ? s : JSON.stringify(red);
  }

  /**
   * Redact any attribute value. Copy-on-write: the input is never mutated; an unchanged value is
   * returned as the same object. Anything past the depth or size caps is replaced, not passed.
   */
  redactValue(v: AnyValue, c: Counter, depth = 0): AnyValue {
    if (v === null || v === undefined) return v;
    if (typeof v === 'string') return this.redactString(v, c, depth);
    if (typeof v !== 'object') return v;
    if (v instanceof Uint8Array) return v.length > MAX_SCAN ? marker('oversize') : v;
    if (depth >= MAX_DEPTH) {
      c.n++;
      return marker('depth');
    }
    if (Array.isArray(v)) {
      let out: AnyValue[] | undefined;
      const n = Math.min(v.length, MAX_ITEMS);
      for (let i = 0; i < n; i++) {
        const r = this.redactValue(v[i] as AnyValue, c, depth + 1);
        if (r !== v[i]) (out ??= v.slice(0, n) as AnyValue[])[i] = r;
      }
      if (v.length > MAX_ITEMS) {
        c.n++;
        out = [...(out ?? (v.slice(0, n) as AnyValue[])), marker('truncated')];
      }
      return out ?? v;
    }
    const obj = v as Record<string, AnyValue>;
    let out: Record<string, AnyValue> | undefined;
    let count = 0;
    for (const k in obj) {
      if (++count > MAX_ITEMS) {
        (out ??= { ...obj })['tripline.truncated'] = marker('truncated');
        c.n++;
        break;
      }
      const val = obj[k] as AnyValue;
      let r: AnyValue;
      if (this.isSensitiveKey(k) && val !== null && val !== undefined && val !== '' && !(typeof val === 'string' && val.startsWith('[REDACTED'))) {
        r = marker('key');
        c.n++;
      } else r = this.redactValue(val, c, depth + 1);
      if (r !== val) (out ??= { ...obj })[k] = r;
    }
    return out ?? obj;
  }
}
