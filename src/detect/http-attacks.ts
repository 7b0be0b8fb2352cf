/**
 * Attack signatures in what a client sends before the app sees it: the request path, the query string
 * and the User-Agent. High precision over recall: each signature needs the attack's own syntax (a "../"
 * segment, a script tag or event handler, a shell separator followed by a command), so ordinary URLs,
 * searches and prose do not match. SQL injection is judged where it matters, at the database client
 * (src/sql), so a hostile value that a parameterized query makes harmless is not an alarm.
 *
 * Cheap on the common path: one pass over the raw URL decides whether anything could match; only then is
 * the URL decoded (up to three rounds, for double encoding) and the patterns run. Bounded: at most
 * MAX_SCAN characters are looked at, and every regex quantifier is bounded.
 */

export type AttackEvent = 'security.malicious_path_traversal' | 'security.malicious_xss' | 'security.malicious_cmdi' | 'security.malicious_attack_tool';

export interface AttackHit {
  readonly event: AttackEvent;
  /** Which signature matched (stable names, documented in docs/RECORDS.md). */
  readonly signature: string;
  /** Where: url.path, url.query or user_agent.original. */
  readonly location: 'url.path' | 'url.query' | 'user_agent.original';
}

const MAX_SCAN = 4096;

const TRAVERSAL = /(?:^|[/\\=&;:])\.{2,3}[/\\]|[/\\]\.{2,3}(?:$|[?&#;])/;
const SYSTEM_FILE = /(?:^|[/\\=])(?:etc[/\\](?:passwd|shadow|group|hosts)\b|proc[/\\]self[/\\]|windows[/\\]win\.ini|win\.ini\b|boot\.ini\b|\.ssh[/\\](?:id_[a-z0-9]{1,10}|authorized_keys)|\.aws[/\\]credentials|\.git[/\\](?:config|HEAD)\b|\.env(?:\.[a-z]{1,12})?(?:$|[?&#;]))/i;
const XSS = /<\s{0,4}\/?\s{0,4}script\b|javascript\s{0,4}:|vbscript\s{0,4}:|<\s{0,4}(?:img|svg|iframe|body|details|object|embed|video|audio|input|marquee|math|a)\b[^>]{0,256}?\bon[a-z]{3,20}\s{0,4}=|["'`\s/]on(?:error|load|mouseover|focus|click|toggle|begin|animationstart|pointerover)\s{0,4}=|\bdocument\s{0,4}\.\s{0,4}(?:cookie|domain|write)\b|\balert\s{0,4}\(|\bprompt\s{0,4}\(|String\.fromCharCode\s{0,4}\(/i;
const CMDI = /(?:[;&|`\n]|\$\(|\|\|)\s{0,8}(?:\/(?:usr\/)?s?bin\/)?(?:cat|ls|id|whoami|uname|wget|curl|nc|ncat|netcat|bash|sh|zsh|ping|nslookup|dig|powershell|pwsh|cmd(?:\.exe)?|sleep|rm|chmod|python[23]?|perl|ruby|php|ifconfig|ipconfig|busybox|telnet)\b(?=[\s;&|`)'"$<>]|$)/i;
const JNDI = /\$\{\s{0,4}(?:jndi|\$\{[^}]{0,64}\}j)[^}]{0,64}?:|\$\{\s{0,4}(?:env|sys|java|lower|upper|::-)[:}]/i;
const TOOL_UA = /\b(?:sqlmap|nikto|nmap|masscan|zgrab|nuclei|wpscan|dirbuster|gobuster|ffuf|feroxbuster|acunetix|netsparker|w3af|hydra|havij|arachni|openvas|nessus|jaeles|whatweb|commix|xsstrike|wfuzz|dirsearch|skipfish|zap\/|owasp[ _-]?zap|burpcollaborator|interactsh|fuzz faster u fool)\b/i;

/** One pass: could anything in this URL be an attack's syntax? */
function suspicious(s: string): boolean {
  const n = Math.min(s.length, MAX_SCAN);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // % < > ' " ` ; | $ \ and two dots in a row
    if (c === 37 || c === 60 || c === 62 || c === 39 || c === 34 || c === 96 || c === 59 || c === 124 || c === 36 || c === 92) return true;
    if (c === 46 && s.charCodeAt(i + 1) === 46) return true;
    // "etc/", ".git", ".env", ".ssh", "win.ini", "proc/": the dot files and system paths without dots before them
    if (c === 47 && i + 4 < n) {
      const d = s.charCodeAt(i + 1);
      if (d === 46 || d === 101 || d === 112 || d === 119) return true;
    }
    // "on...=" handlers and "javascript:" need one of the characters above in practice, except in a query: '='
    if (c === 58 && i >= 10) return true;
  }
  return false;
}

function decodeRounds(s: string): string {
  let cur = s.length > MAX_SCAN ? s.slice(0, MAX_SCAN) : s;
  for (let round = 0; round < 3 && cur.includes('%'); round++) {
    let next: string;
    try {
      next = decodeURIComponent(cur.replace(/\+/g, ' '));
    } catch {
      next = cur.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
    if (next === cur) break;
    cur = next;
  }
  return cur.replace(/\+/g, ' ');
}

function push(out: AttackHit[], event: AttackEvent, signature: string, location: AttackHit['location']): void {
  for (const h of out) if (h.signature === signature && h.location === location) return;
  out.push({ event, signature, location });
}

function inspectText(text: string, location: 'url.path' | 'url.query', out: AttackHit[]): void {
  if (TRAVERSAL.test(text)) push(out, 'security.malicious_path_traversal', 'dot_dot_segment', location);
  else if (SYSTEM_FILE.test(text)) push(out, 'security.malicious_path_traversal', 'sensitive_file', location);
  if (XSS.test(text)) push(out, 'security.malicious_xss', 'script_injection', location);
  if (CMDI.test(text)) push(out, 'security.malicious_cmdi', 'shell_command', location);
  else if (JNDI.test(text)) push(out, 'security.malicious_cmdi', 'jndi_lookup', location);
}

/**
 * The attacks a request carries in its URL and User-Agent: for an ordinary request with a user agent seen
 * before, a shared empty list and no allocation.
 */
export function inspectRequest(url: string | undefined, userAgent: string | undefined): readonly AttackHit[] {
  const urlSuspicious = url !== undefined && url.length > 1 && suspicious(url);
  // user agents repeat: remember the verdict on the last ones seen
  const known = userAgent !== undefined && userAgent.length > 0 ? uaVerdicts.get(userAgent) : NONE;
  if (!urlSuspicious && known !== undefined) return known; // the common case: nothing new to look at
  const out: AttackHit[] = [];
  if (urlSuspicious) {
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.length > 1) inspectText(decodeRounds(path), 'url.path', out);
    if (q !== -1 && q < url.length - 1) {
      // pair by pair, split before decoding: the query's own '&' separators are not shell operators
      const query = url.slice(q + 1, q + 1 + MAX_SCAN);
      let from = 0;
      while (from <= query.length) {
        let amp = query.indexOf('&', from);
        if (amp === -1) amp = query.length;
        if (amp > from) inspectText(decodeRounds(query.slice(from, amp)), 'url.query', out);
        from = amp + 1;
      }
    }
  }
  if (known !== undefined) {
    for (const h of known) out.push(h);
  } else if (userAgent !== undefined) {
    const before = out.length;
    inspectUserAgent(userAgent, out);
    if (uaVerdicts.size >= UA_MEMO_MAX) uaVerdicts.clear();
    uaVerdicts.set(userAgent, out.length === before ? NONE : out.slice(before));
  }
  return out;
}

const UA_MEMO_MAX = 1024;
const NONE: readonly AttackHit[] = [];
const uaVerdicts = new Map<string, readonly AttackHit[]>();

function inspectUserAgent(userAgent: string, out: AttackHit[]): void {
  {
    const ua = userAgent.length > 512 ? userAgent.slice(0, 512) : userAgent;
    if (TOOL_UA.test(ua)) push(out, 'security.malicious_attack_tool', 'scanner_user_agent', 'user_agent.original');
    else if (suspicious(ua)) {
      // payloads in the User-Agent itself (log4shell-style lookups, shell commands, script tags)
      if (JNDI.test(ua)) push(out, 'security.malicious_cmdi', 'jndi_lookup', 'user_agent.original');
      else if (CMDI.test(ua) && /[;|`]|\$\(/.test(ua)) push(out, 'security.malicious_cmdi', 'shell_command', 'user_agent.original');
      if (XSS.test(ua)) push(out, 'security.malicious_xss', 'script_injection', 'user_agent.original');
    }
  }
}
