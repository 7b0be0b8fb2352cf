/**
 * Value patterns for secrets and personal data. Each is gated: it only runs when the one-pass
 * character profile of the value (and, where given, a literal keyword) says it could match, and
 * candidates are validated after matching (Luhn, IBAN mod-97, length/shape). Every quantifier is
 * bounded; no pattern can backtrack catastrophically.
 */
import type { PiiClass } from '../config';

/** What one pass over a string learns, to gate patterns cheaply. */
export interface Profile {
  at: boolean;
  eq: boolean;
  colon: boolean;
  underscore: boolean;
  dash: boolean;
  dot: number;
  space: boolean;
  digits: number;
  upper: number;
  /** Most digits in one run of digits, spaces and dashes (card numbers, SSNs, IBAN groups). */
  digitRun: number;
  plus: boolean;
  /** Most dots inside one run of dotted digits ("10.0.0.1" has 3): IPv4 needs 3. */
  dottedDigits: number;
  /** Two capital letters followed by two digits somewhere (an IBAN's country and check digits). */
  ibanStart: boolean;
}

export function profile(s: string): Profile {
  const p: Profile = { at: false, eq: false, colon: false, underscore: false, dash: false, dot: 0, space: false, digits: 0, upper: 0, digitRun: 0, plus: false, dottedDigits: 0, ibanStart: false };
  let run = 0;
  let dotted = 0; // dots in the current digit.digit run
  let prevDigit = false;
  let uppers = 0; // consecutive capitals just before
  let afterUU = 0; // digits seen right after two or more capitals
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      p.digits++;
      if (++run > p.digitRun) p.digitRun = run;
      if (uppers >= 2 || afterUU > 0) {
        if (++afterUU >= 2) p.ibanStart = true;
      }
      uppers = 0;
      prevDigit = true;
      continue;
    }
    afterUU = 0;
    if (c !== 32 && c !== 45) run = 0;
    if (c === 46) {
      p.dot++;
      if (prevDigit) {
        if (++dotted > p.dottedDigits) p.dottedDigits = dotted;
      } else dotted = 0;
      prevDigit = false;
      uppers = 0;
      continue;
    }
    dotted = 0;
    prevDigit = false;
    if (c >= 65 && c <= 90) {
      p.upper++;
      uppers++;
      continue;
    }
    uppers = 0;
    if (c === 64) p.at = true;
    else if (c === 61) p.eq = true;
    else if (c === 58) p.colon = true;
    else if (c === 95) p.underscore = true;
    else if (c === 45) p.dash = true;
    else if (c === 43) p.plus = true;
    else if (c === 32 || c === 9 || c === 10) p.space = true;
  }
  return p;
}

export interface ValuePattern {
  readonly name: string;
  /** PII class (switchable) or undefined for secrets (always on). */
  readonly pii?: PiiClass;
  /** Cheap test on the profile (and the raw/lower-cased string) before the regex runs. */
  gate(p: Profile, s: string, lower: () => string): boolean;
  readonly re: RegExp;
  /** Which capture group holds the secret (default: the whole match). */
  readonly group?: number;
  /** Validate a candidate match (default: accept). */
  validate?(m: string): boolean;
}

function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

function ibanOk(raw: string): boolean {
  const s = raw.replace(/ /g, '').toUpperCase();
  if (s.length < 15 || s.length > 34) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    const v = c >= 65 ? String(c - 55) : moved[i];
    for (const ch of v as string) rem = (rem * 10 + (ch.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

/** Literal prefixes of the api_token pattern: a cheap first look before the full alternation. */
const VENDOR_HINT = /ya29\.|SG\.|SK[0-9a-f]{4}|key-|_v1_|hv[sbr]\.|shp(?:at|ca|pa|ss)_|hf_|pypi-|dckr_pat_|:AA|lin_api_|AGE-SECRET|sq0(?:atp|csp)-|ATATT|\dQ~|dapi|sbp_/;

const KEYWORDS = /(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|auth[_-]?token|credentials?)/;

export const BUILTIN_PATTERNS: readonly ValuePattern[] = [
  {
    name: 'private_key',
    gate: (p, s) => p.dash && s.includes('-----BEGIN'),
    re: /-----BEGIN[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,16384}?(?:-----END[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  {
    name: 'jwt',
    gate: (p, s) => p.dot >= 2 && s.length >= 30 && s.includes('eyJ'),
    re: /\beyJ[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{4,8192}\.[A-Za-z0-9_-]{0,4096}/g,
  },
  {
    name: 'bearer',
    gate: (p, s) => p.space && (s.includes('earer') || s.includes('EARER')),
    re: /\b(Bearer\s{1,4})([A-Za-z0-9\-._~+/]{8,4096}=*)/gi,
    group: 2,
  },
  {
    name: 'basic_auth',
    gate: (p, s) => p.space && (s.includes('asic') || s.includes('ASIC')),
    re: /\b(Basic\s{1,4})([A-Za-z0-9+/]{8,2048}={0,2})/gi,
    group: 2,
  },
  {
    name: 'aws_access_key',
    gate: (p, s) => p.upper >= 4 && (s.includes('AKIA') || s.includes('ASIA') || s.includes('AGPA') || s.includes('AIDA') || s.includes('AROA')),
    re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/g,
  },
  {
    name: 'aws_secret_key',
    gate: (p, _s, lower) => (p.eq || p.colon) && lower().includes('aws'),
    re: /(aws[A-Za-z0-9_ .-]{0,30}(?:secret|key)[A-Za-z0-9_ .-]{0,20}["']?\s{0,4}[:=]\s{0,4}["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    group: 2,
  },
  {
    name: 'gcp_api_key',
    gate: (p, s) => s.includes('AIza'),
    re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
  },
  {
    name: 'azure_storage_key',
    gate: (p, _s, lower) => p.eq && (lower().includes('accountkey') || lower().includes('sharedaccesskey')),
    re: /((?:AccountKey|SharedAccessKey)=)([A-Za-z0-9+/]{20,512}={0,2})/gi,
    group: 2,
  },
  {
    name: 'azure_sas',
    gate: (p, s) => p.eq && s.includes('sig='),
    re: /([?&;]sig=)([A-Za-z0-9%+/=]{10,512})/g,
    group: 2,
  },
  {
    name: 'github_token',
    gate: (p, s) => p.underscore && (s.includes('gh') || s.includes('github_pat_')),
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g,
  },
  {
    name: 'gitlab_token',
    gate: (p, s) => p.dash && s.includes('glpat-'),
    re: /\bglpat-[A-Za-z0-9_-]{20,255}/g,
  },
  {
    name: 'slack_token',
    gate: (p, s) => (p.dash && s.includes('xox')) || s.includes('hooks.slack.com'),
    re: /\bxox[abposre]-[A-Za-z0-9-]{10,255}|https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9_/]{10,255}/g,
  },
  {
    name: 'stripe_key',
    gate: (p, s) => p.underscore && (s.includes('sk_') || s.includes('rk_')),
    re: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,255}\b/g,
  },
  {
    name: 'npm_token',
    gate: (p, s) => p.underscore && s.includes('npm_'),
    re: /\bnpm_[A-Za-z0-9]{36}\b/g,
  },
  {
    name: 'anthropic_key',
    gate: (p, s) => p.dash && s.includes('sk-ant-'),
    re: /\bsk-ant-[A-Za-z0-9_-]{20,255}/g,
  },
  {
    name: 'openai_key',
    gate: (p, s) => p.dash && s.includes('sk-'),
    re: /\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,255}/g,
  },
  {
    // Vendor tokens with a fixed, distinctive prefix (Google OAuth, SendGrid, Twilio, Mailgun,
    // DigitalOcean, HashiCorp Vault, Shopify, Hugging Face, PyPI, Docker Hub, Telegram bots, Linear,
    // age, Square, Atlassian, Azure AD client secrets, Databricks, Supabase): one pass for all of them.
    name: 'api_token',
    gate: (p, s) => s.length >= 20 && p.digits >= 1 && VENDOR_HINT.test(s),
    re: /\bya29\.[0-9A-Za-z_-]{20,512}|\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}|\bSK[0-9a-f]{32}\b|\bkey-[0-9a-zA-Z]{32}\b|\bdo[opr]_v1_[a-f0-9]{64}\b|\bhv[sbr]\.[A-Za-z0-9_-]{24,512}|\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b|\bhf_[A-Za-z0-9]{30,64}\b|\bpypi-AgE[A-Za-z0-9_-]{50,512}|\bdckr_pat_[A-Za-z0-9_-]{20,64}|\b\d{8,10}:AA[0-9A-Za-z_-]{33}\b|\blin_api_[A-Za-z0-9]{40}\b|\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b|\bsq0(?:atp|csp)-[0-9A-Za-z_-]{22,64}|\bATATT3[A-Za-z0-9_=-]{60,256}|\b[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])|\bdapi[a-f0-9]{32}\b|\bsbp_[a-f0-9]{40}\b/g,
  },
  {
    name: 'url_password',
    gate: (p, s) => p.at && p.colon && s.includes('://'),
    re: /(\b[A-Za-z][A-Za-z0-9+.-]{1,20}:\/\/[^\s:/@?#]{0,256}:)([^\s@/?#]{1,256})@/g,
    group: 2,
  },
  {
    name: 'connection_password',
    gate: (p, _s, lower) => p.eq && (lower().includes('password') || lower().includes('pwd')),
    re: /\b((?:password|pwd)\s{0,4}=\s{0,4})([^;\s&'"]{1,256})/gi,
    group: 2,
  },
  {
    name: 'secret_assignment',
    gate: (p, _s, lower) => (p.eq || p.colon) && KEYWORDS.test(lower()),
    re: /\b((?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|auth[_-]?token|credentials?|refresh[_-]?token|access[_-]?token|session[_-]?id)["']?\s{0,4}[:=]\s{0,4}["']?)([^\s"'&,;}{)(\]\[]{3,512})/gi,
    group: 2,
    validate: (m) => !m.startsWith('[REDACTED'),
  },
  {
    name: 'card',
    pii: 'card',
    gate: (p) => p.digitRun >= 13,
    re: /(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])/g,
    validate: (m) => {
      const d = m.replace(/[ -]/g, '');
      return d.length >= 13 && d.length <= 19 && luhn(d) && !/^(\d)\1+$/.test(d);
    },
  },
  {
    name: 'iban',
    pii: 'iban',
    gate: (p) => p.ibanStart && p.digits >= 8,
    re: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g,
    validate: ibanOk,
  },
  {
    name: 'ssn',
    pii: 'ssn',
    gate: (p) => p.dash && p.digitRun >= 9,
    re: /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g,
  },
  {
    name: 'email',
    pii: 'email',
    gate: (p) => p.at && p.dot >= 1,
    re: /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/g,
  },
  {
    name: 'phone',
    pii: 'phone',
    gate: (p) => p.plus && p.digitRun >= 7 && p.digits >= 10,
    re: /(?<![\w])\+\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w])/g,
  },
  {
    name: 'ip',
    pii: 'ip',
    gate: (p) => p.dottedDigits >= 3,
    re: /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g,
  },
];

/** Compile TRIPLINE_REDACT_PATTERNS entries (name=regex); they run on every value (no gate). */
export function customPatterns(specs: readonly string[]): ValuePattern[] {
  const out: ValuePattern[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) continue;
    try {
      const re = new RegExp(spec.slice(eq + 1), 'g');
      out.push({ name: spec.slice(0, eq), gate: () => true, re });
    } catch {
      // validated at start; a bad one is skipped
    }
  }
  return out;
}
