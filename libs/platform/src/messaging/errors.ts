/** Thrown by a handler when the event itself is at fault: it is retried a few times, then dead-lettered. */
export class EventRejectedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventRejectedError';
  }
}

/** The broker could not confirm a publish: the caller must assume nothing was accepted. */
export class BusUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BusUnavailableError';
  }
}
