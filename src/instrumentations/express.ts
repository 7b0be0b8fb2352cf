import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import type { InstrumentationEntry } from './types';

/**
 * Express 4/5: only for http.route. Layer spans are switched off (they cost a span per middleware);
 * the upstream instrumentation still records the matched route on the request's RPC metadata.
 */
export const express: InstrumentationEntry = {
  name: 'express',
  create: () => [
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER],
    }),
  ],
};
