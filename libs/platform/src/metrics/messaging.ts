import type { DeliveryObserver } from '../messaging/delivery.ts';
import type { Metrics } from './registry.ts';

/** Seconds an event waited on the bus: in-process it is milliseconds, behind a stopped consumer minutes. */
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800];

/**
 * The consumers' instruments, by destination and consumer group. Every subscription's series exist
 * from its start (at zero), so a rate over them is defined before the first event arrives.
 */
export function consumerMetrics(metrics: Metrics): (destination: string, group: string) => DeliveryObserver {
  const names = ['messaging_destination_name', 'messaging_consumer_group_name'] as const;
  const processed = metrics.counter('messaging_process_total', 'Events a consumer handled successfully', names);
  const retried = metrics.counter(
    'messaging_process_retried_total',
    'Attempts repeated after a rejection of the event or a failure of the infrastructure',
    [...names, 'reason'],
  );
  const deadLettered = metrics.counter(
    'messaging_process_dead_lettered_total',
    'Events rejected on every attempt and moved to the dead-letter queue',
    names,
  );
  const duration = metrics.histogram(
    'messaging_process_duration_seconds',
    'Time from the first attempt at an event to its outcome, retries included',
    names,
  );
  const lag = metrics.histogram(
    'messaging_process_lag_seconds',
    'Time an event waited between being published and its first attempt',
    names,
    LAG_BUCKETS,
  );

  return (destination, group) => {
    const labels = { messaging_destination_name: destination, messaging_consumer_group_name: group };
    processed.inc(labels, 0);
    deadLettered.inc(labels, 0);
    for (const reason of ['rejected', 'infrastructure']) retried.inc({ ...labels, reason }, 0);
    return {
      started(lagSeconds) {
        if (lagSeconds !== undefined) lag.observe(labels, lagSeconds);
      },
      retried(reason) {
        retried.inc({ ...labels, reason });
      },
      finished(outcome, seconds) {
        if (outcome.kind === 'stopped') return;
        (outcome.kind === 'handled' ? processed : deadLettered).inc(labels);
        duration.observe(labels, seconds);
      },
    };
  };
}
