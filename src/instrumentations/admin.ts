import type { AnyValue } from '@opentelemetry/api-logs';
import { emit } from '../events/emitter';
import { userOf } from '../context/request-state';
import { RouteMatcher } from '../net/route-pattern';
import type { RequestEnd } from './http';
import type { InstrumentationEntry } from './types';

/**
 * security.authz_admin for every request that succeeded (status < 400) on an admin route
 * (TRIPLINE_ADMIN_ROUTES) or was made by a user holding an admin role (TRIPLINE_ADMIN_ROLES). Refused
 * attempts are already security.authz_fail. One record per request.
 */
export function adminRoutes(): InstrumentationEntry {
  return {
    name: 'admin',
    create: ({ config, hooks }) => {
      const matcher = new RouteMatcher(config.adminRoutes);
      const roles = new Set(config.adminRoles.map((r) => r.toLowerCase()));
      hooks.end.push((end: RequestEnd) => {
        const { state, status } = end;
        if (status === undefined || status >= 400) return;
        if (state.emitted?.has('security.authz_admin') === true) return;
        const byRoute = matcher.matches(end.method, end.path, end.route);
        const byRole = userOf(state)?.roles?.some((r) => roles.has(r.toLowerCase())) === true;
        if (!byRoute && !byRole) return;
        const attrs: Record<string, AnyValue | undefined> = {
          'security.outcome': 'success',
          'security.admin.reason': byRoute ? 'admin_route' : 'admin_role',
          'http.response.status_code': status,
        };
        if (end.route !== undefined) attrs['http.route'] = end.route;
        emit('security.authz_admin', attrs, { state, body: `admin access ${end.method ?? ''} ${end.route ?? end.path ?? ''}`.trim() });
      });
      return [];
    },
  };
}
