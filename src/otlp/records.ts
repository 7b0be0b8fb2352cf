/** A decoded OTLP log record, flattened with its resource and scope: what tests, the demo and the verifier read. */
export interface FlatRecord {
  resource: Record<string, unknown>;
  scope: { name: string; version: string | undefined };
  timeUnixNano: string;
  observedTimeUnixNano: string | undefined;
  severityNumber: number;
  severityText: string;
  eventName: string;
  body: unknown;
  attributes: Record<string, unknown>;
  traceId: string;
  spanId: string;
}
