/**
 * V8 flags a member node runs with (ADR 0051), wherever it is started: deploy/Dockerfile's CMD,
 * `npm run start:node`, `fedctl demo` and the benchmarks (test/deploy checks they agree).
 *
 * Without them V8 sizes its heap from the machine's memory (about 4 GB of old space on a 24 GiB
 * host) and lets garbage from bulk requests accumulate: a node peaked at 527 MB RSS ingesting
 * 200,000 records in 5,000-record requests. With a 256 MB old space and 16 MB semi-spaces it
 * peaked at about 300 MB (8 MB semi-spaces: 281 MB, but more frequent scavenges cost the receiver
 * about 4 µs per record). Request bodies are capped at 2 MB, so a request's working set stays far
 * below the limit.
 */
export const NODE_PROCESS_FLAGS: readonly string[] = [
  '--max-old-space-size=256',
  '--max-semi-space-size=16',
];
