// The composition root: builds tailers, sinks and servers from validated config. The only folder (with
// commands/ and demo/ above it) that imports both tailer/ and the concrete sinks; tailer/ knows the
// Sink port only. A new sink is built here and handed to a Tailer; a new command assembles from here.
export {
  createAppliedPublisher,
  createKafkaTailer,
  KAFKA_CHECKPOINT_FILE,
  kafkaServerId,
} from './kafka-tailer.js';
export type { KafkaTailerConfig, KafkaTailerDeps } from './kafka-tailer.js';
export { createTailer, type MemcachedTailerHooks } from './memcached-tailer.js';
export { assembleSidecar, type Sidecar } from './sidecar.js';
export { createReplaySink, REPLAY_JOURNAL_DIR } from './replay-sink.js';
