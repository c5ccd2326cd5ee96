import { createHash } from 'node:crypto';
import { canonicalize } from '../../protocol/src/index.js';

/**
 * Namespace of every deterministic FedIntel STIX id (UUIDv5). Fixed forever: changing it would make
 * every consumer see every object as new. Chosen at random once (docs/adr/0030).
 */
export const FEDINTEL_STIX_NAMESPACE = '8f4c2a6e-3b1d-4e7a-9c55-1d2f0b7e6a43';

/** The namespace STIX 2.1 §2.9 prescribes for deterministic cyber-observable ids. */
export const STIX_SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/**
 * RFC 9562 UUID version 5 (SHA-1, name-based).
 *
 * @example uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8') // '2ed6657d-e927-568b-95e1-2665a8aea6a2'
 */
export function uuidv5(name: string, namespace: string): string {
  const hash = createHash('sha1')
    .update(uuidBytes(namespace))
    .update(Buffer.from(name, 'utf8'))
    .digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A FedIntel-deterministic STIX id: `<type>--uuidv5(FEDINTEL_STIX_NAMESPACE, key)`. */
export function fedintelId(type: string, key: string): string {
  return `${type}--${uuidv5(`${type}|${key}`, FEDINTEL_STIX_NAMESPACE)}`;
}

/**
 * The STIX 2.1 deterministic id of a cyber observable: UUIDv5 in the SCO namespace over the
 * RFC 8785 canonical JSON of its id-contributing properties (STIX 2.1 §2.9).
 */
export function scoId(type: string, contributing: Record<string, string>): string {
  return `${type}--${uuidv5(canonicalize(contributing), STIX_SCO_NAMESPACE)}`;
}
