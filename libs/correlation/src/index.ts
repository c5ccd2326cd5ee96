// Public door of libs/correlation: the hub's pure aggregation, correlation and feed-view rules
// (no Nest, ORM, broker or clock: time is a parameter), unit-tested without the hub.
export {
  aggregate,
  aggregateAll,
  aggregateKey,
  combinedConfidence,
  isLive,
  type Aggregate,
  type CountrySightings,
  type SourceRecord,
  type SourceRef,
} from './aggregate.js';
export {
  correlate,
  isOneEdit,
  networkId,
  numberedName,
  oneEditIndex,
  type Correlation,
  type IndicatorKey,
  type Network,
  type RelationEvidence,
  type SuccessorFlag,
  type SuccessorRule,
} from './correlate.js';
export { contributesTo, memberView } from './feed.js';
export {
  crossBorderStats,
  isoWeek,
  STAT_DIMENSIONS,
  type StatDimension,
  type StatRow,
} from './stats.js';
