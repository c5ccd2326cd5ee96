import { isPurpose } from '../../audit/src/index.js';
import { toRfc3339Ms } from '../../protocol/src/index.js';
import type { AuditEvent } from '../../audit/src/index.js';
import type { TaxiiAccount } from './accounts.js';
import { TaxiiError } from './taxii.errors.js';

/** One read through the TAXII server: who, why, which collection (docs/audit.md, "TAXII"). */
export interface TaxiiRead {
  account: string;
  purpose: string;
  collection: string;
  /** `objects`, `manifest`, `object` or `versions`. */
  route: string;
  /** Objects (or manifest entries) returned. */
  objects: number;
  /** Record versions the returned objects were derived from (node collections), each once. */
  records?: string[];
}

/**
 * Where a host logs TAXII reads as consultations (provided as `TAXII_READ_LOG`; without it reads
 * are not logged, e.g. in the lib's own tests).
 */
export interface TaxiiReadLog {
  consulted(read: TaxiiRead): Promise<void>;
}

/**
 * The purpose of a TAXII read: the `X-Purpose` header when the client sends one (it must then be
 * valid), otherwise the purpose configured for the consumer's account. TAXII clients cannot be
 * expected to send the header.
 * @throws TaxiiError 400 for an invalid header
 */
export function taxiiPurpose(account: TaxiiAccount, header: string | undefined): string {
  if (header === undefined || header === '') return account.purpose;
  if (!isPurpose(header)) {
    throw new TaxiiError(
      400,
      'purpose required',
      'X-Purpose is not a valid purpose (docs/audit.md)',
    );
  }
  return header;
}

/**
 * The log entry of a TAXII read: actor `taxii:<account>`, the purpose, the collection, and the
 * record versions behind the objects returned when the source names them.
 */
export function taxiiConsultation(read: TaxiiRead, now = new Date()): AuditEvent {
  return {
    at: toRfc3339Ms(now),
    actor: `taxii:${read.account.replace(/[^A-Za-z0-9._-]/g, '_')}`,
    op: 'consultation',
    purpose: read.purpose,
    ...(read.records && read.records.length > 0 ? { records: read.records } : {}),
    detail: { route: `taxii/${read.route}`, collection: read.collection, objects: read.objects },
  };
}
