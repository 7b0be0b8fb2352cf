import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import type { InstrumentationEntry } from './types';

/** Koa 2/3 with @koa/router: for http.route (the upstream sets it from router layers). */
export const koa: InstrumentationEntry = {
  name: 'koa',
  create: () => [new KoaInstrumentation()],
};
