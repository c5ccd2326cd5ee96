/**
 * libs/testing: test harness shared by integration and end-to-end suites. The only public door.
 */
export * from './nats.js';
export * from './jetstream.js';
