import type { AnyValue } from '@opentelemetry/api-logs';
import type { RequestState } from '../context/request-state';
import { inspectRequest } from '../detect/http-attacks';
import { emit, pathOf } from '../events/emitter';
import type { InstrumentationEntry } from './types';

/** Scanner user agents: one record per client a minute, carrying the count of requests since the last. */
const TOOL_WINDOW_MS = 60_000;
const TOOL_KEYS_MAX = 10_000;

/**
 * Attack syntax in the request line and User-Agent (src/detect/http-attacks.ts), recorded when the request
 * arrives, before the app runs: security.malicious_path_traversal, _xss, _cmdi, _attack_tool, with the
 * signature and where it was found. The URL travels in url.path/url.query through redaction like every
 * other record. Whether the app was harmed is for the response and the database records to tell; these
 * are attempts (security.outcome=attempt).
 */
export const httpAttacks: InstrumentationEntry = {
  name: 'http-attacks',
  create: ({ hooks }) => {
    const tools = new Map<string, { until: number; count: number }>();
    hooks.start.push((state: RequestState) => {
      const req = state.req;
      const ua = req.headers['user-agent'];
      const hits = inspectRequest(req.url, typeof ua === 'string' ? ua : undefined);
      if (hits.length === 0) return;
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      for (const hit of hits) {
        const attrs: Record<string, AnyValue | undefined> = {
          'security.signature': hit.signature,
          'security.attack.location': hit.location,
          'security.outcome': 'attempt',
          'url.path': pathOf(url),
          'url.query': q === -1 ? undefined : url.slice(q + 1),
          'user_agent.original': typeof ua === 'string' ? ua : undefined,
        };
        if (hit.event === 'security.malicious_attack_tool') {
          const key = state.clientAddress ?? '-';
          const now = Date.now();
          const seen = tools.get(key);
          if (seen !== undefined && now < seen.until) {
            seen.count++;
            continue;
          }
          if (tools.size >= TOOL_KEYS_MAX) tools.clear();
          attrs['security.attack.requests_since_last'] = (seen?.count ?? 0) + 1;
          tools.set(key, { until: now + TOOL_WINDOW_MS, count: 0 });
        }
        emit(hit.event, attrs, { state, body: `${hit.signature.replace(/_/g, ' ')} in ${hit.location}` });
      }
    });
    return [];
  },
};
