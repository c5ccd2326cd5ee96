import { ProtocolError } from './errors.js';
import { canonicalBytes, parseStrictJson } from './json.js';
import { signCompact, verifyCompactFast, type KeyResolver, type SigningKey } from './jws.js';
import { MEMBER_ID_PATTERN, isRfc3339Ms } from './record.js';

/**
 * A signed receipt: the addressee's statement that it received bundle `seq` from `to` (the
 * bundle's origin), with the root it verified and what it accepted or rejected per record index.
 * Receipts are what lets an auditor reconcile a sender's disclosures with a receiver's log.
 */
export interface Receipt {
  v: 1;
  /** The receiver (signer of the receipt). */
  from: string;
  /** The bundle's origin. */
  to: string;
  /** The bundle's sequence number (decimal string). */
  seq: string;
  /** The bundle's Merkle root (base64url), as verified by the receiver. */
  root: string;
  count: number;
  accepted: number;
  rejected: { index: number; code: string }[];
  receivedAt: string;
}

const SEQ = /^[1-9][0-9]{0,18}$/;
const ROOT = /^[A-Za-z0-9_-]{43}$/;

/** Validate a receipt body (exact keys, types, ranges). */
export function parseReceipt(value: unknown): Receipt {
  const bad = (field: string, why: string): never => {
    throw new ProtocolError('INVALID_FIELD', `receipt.${field}: ${why}`, {
      field: `receipt.${field}`,
    });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad('', 'must be an object');
  const o = value as Record<string, unknown>;
  const allowed = ['v', 'from', 'to', 'seq', 'root', 'count', 'accepted', 'rejected', 'receivedAt'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(k, 'is not a receipt field');
  if (o.v !== 1) bad('v', 'must be 1');
  if (typeof o.from !== 'string' || !MEMBER_ID_PATTERN.test(o.from))
    bad('from', 'must be a member id');
  if (typeof o.to !== 'string' || !MEMBER_ID_PATTERN.test(o.to)) bad('to', 'must be a member id');
  if (typeof o.seq !== 'string' || !SEQ.test(o.seq))
    bad('seq', 'must be a positive decimal string');
  if (typeof o.root !== 'string' || !ROOT.test(o.root)) bad('root', 'must be a base64url SHA-256');
  for (const f of ['count', 'accepted'] as const) {
    const n = o[f];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      bad(f, 'must be a non-negative integer');
  }
  if (!Array.isArray(o.rejected)) bad('rejected', 'must be an array');
  const rejected = (o.rejected as unknown[]).map((r, i) => {
    const e = r as Record<string, unknown>;
    if (typeof e?.index !== 'number' || !Number.isInteger(e.index) || typeof e.code !== 'string') {
      bad(`rejected[${i}]`, 'must be {index, code}');
    }
    return { index: e.index as number, code: e.code as string };
  });
  if (typeof o.receivedAt !== 'string' || !isRfc3339Ms(o.receivedAt)) {
    bad('receivedAt', 'must be RFC 3339 UTC with milliseconds');
  }
  return {
    v: 1,
    from: o.from as string,
    to: o.to as string,
    seq: o.seq as string,
    root: o.root as string,
    count: o.count as number,
    accepted: o.accepted as number,
    rejected,
    receivedAt: o.receivedAt as string,
  };
}

/** Sign a receipt (JWS compact, typ `fedintel-receipt+jws`). */
export async function signReceipt(r: Receipt, key: SigningKey): Promise<string> {
  return signCompact(canonicalBytes(parseReceipt(r)), 'receipt', key);
}

/** Verify a signed receipt; the resolver decides whether the signer's key is acceptable. */
export async function openReceipt(jws: string, resolve: KeyResolver): Promise<Receipt> {
  const { payload } = await verifyCompactFast(jws, 'receipt', resolve);
  return parseReceipt(parseStrictJson(payload));
}
