// The tests' stand-in for a backend: a real OTLP/HTTP receiver (JSON and protobuf) on a free port.
export { OtlpReceiver, type ReceivedRequest, type ReceiverOptions } from '../../src/otlp/receiver';
export type { FlatRecord } from '../../src/otlp/records';
