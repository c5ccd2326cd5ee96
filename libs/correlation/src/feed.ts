import { evaluateOnward, type Directory, type IndicatorRecord } from '../../protocol/src/index.js';
import { aggregateAll, type Aggregate, type SourceRecord } from './aggregate.js';

/**
 * Whether the hub may pass `record`'s contribution on to `member` (libs/protocol
 * `evaluateOnward`: handling H0/H1, TLP up to AMBER, both hub and member in the record's scope,
 * an agreement hub ↔ member). A member's own records always count in its own view: it holds them.
 */
export function contributesTo(
  record: IndicatorRecord,
  member: string,
  directory: Directory,
  now: Date,
): boolean {
  if (record.origin === member) return true;
  return evaluateOnward({ record, directory, from: 'hub', to: member, now }).allowed;
}

/**
 * A member's view of the aggregates: each aggregate recomputed from only the sources that every
 * rule lets reach that member. A source whose handling or TLP forbids onward sharing is absent
 * from the view (and so are its confidence, country and markings); an aggregate left without
 * sources is absent.
 */
export function memberView(
  sources: readonly SourceRecord[],
  member: string,
  directory: Directory,
  now: Date,
): Aggregate[] {
  return aggregateAll(
    sources.filter((s) => contributesTo(s.record, member, directory, now)),
    now,
  );
}
