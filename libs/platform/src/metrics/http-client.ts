import { methodLabel, type Metrics } from './registry.ts';

export interface ClientCallRecord {
  /** The service called, by its name in the landscape (`product`), not its address. */
  peer: string;
  method: string;
  /** The answer's status; absent when none came. */
  status?: number;
  /** Why no usable answer came (`timeout`, `unreachable`), absent on an answer. */
  errorType?: string;
  seconds: number;
}

export type ClientCallRecorder = (call: ClientCallRecord) => void;

/** Outgoing calls' durations, in OpenTelemetry's names; a call that got no answer carries its error type. */
export function httpClientMetrics(metrics: Metrics): ClientCallRecorder {
  const duration = metrics.histogram(
    'http_client_request_duration_seconds',
    'Duration of outgoing HTTP requests, by called service, method and status or error type',
    ['peer_service', 'http_request_method', 'http_response_status_code', 'error_type'],
  );
  return ({ peer, method, status, errorType, seconds }) => {
    duration.observe(
      {
        peer_service: peer,
        http_request_method: methodLabel(method),
        http_response_status_code: status === undefined ? '' : String(status),
        error_type: errorType ?? '',
      },
      seconds,
    );
  };
}
