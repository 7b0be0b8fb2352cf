import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TriplineConfig } from '../config';
import type { ClientAddressResolver } from '../net/client-address';
import type { RequestHooks } from './http';

export interface InstrumentationDeps {
  readonly config: TriplineConfig;
  readonly resolver: ClientAddressResolver;
  /** Request start/end hooks run by the HTTP layer (login routes, admin routes, ...). */
  readonly hooks: RequestHooks;
}

/**
 * One entry per supported library. `create` returns the (upstream or tripline) instrumentations to
 * enable; `spanProcessors` turn spans of upstream instrumentations into security records.
 */
export interface InstrumentationEntry {
  /** Name used by TRIPLINE_INSTRUMENTATIONS / TRIPLINE_DISABLED_INSTRUMENTATIONS. */
  readonly name: string;
  create(deps: InstrumentationDeps): Instrumentation[];
  spanProcessors?(deps: InstrumentationDeps): SpanProcessor[];
}
