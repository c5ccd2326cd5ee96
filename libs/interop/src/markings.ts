import {
  HANDLING_CODES,
  narrowTlp,
  type Handling,
  type HandlingCode,
  type Tlp,
} from '../../protocol/src/index.js';
import { fedintelId } from './ids.js';

/** The OASIS TLP 2.0 extension definition that the official TLP 2.0 markings use. */
export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

/** Official ids of the TLP 2.0 marking definitions (oasis-open/cti-stix-common-objects). */
export const TLP2_MARKING_IDS: Readonly<Record<Tlp, string>> = Object.freeze({
  CLEAR: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  GREEN: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  AMBER: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'AMBER+STRICT': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  RED: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
});

/**
 * Ids of the TLP 1.0 markings predefined in STIX 2.1, and the TLP 2.0 level each maps to on
 * import. TLP 1.0 WHITE and TLP 2.0 CLEAR mean the same; the others keep their name.
 */
export const TLP1_MARKING_IDS: Readonly<Record<string, Tlp>> = Object.freeze({
  'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9': 'CLEAR',
  'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da': 'GREEN',
  'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82': 'AMBER',
  'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed': 'RED',
});

const TLP2_BY_ID: ReadonlyMap<string, Tlp> = new Map(
  Object.entries(TLP2_MARKING_IDS).map(([tlp, id]) => [id, tlp as Tlp]),
);

/** TLP level of a marking-definition id, or undefined when it is not a TLP marking. */
export function tlpOfMarking(id: string): Tlp | undefined {
  return TLP2_BY_ID.get(id) ?? TLP1_MARKING_IDS[id];
}

/** The official TLP 2.0 marking-definition object, as published by OASIS. */
export function tlpMarkingDefinition(tlp: Tlp): Record<string, unknown> {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP2_MARKING_IDS[tlp],
    created: '2022-10-01T00:00:00.000Z',
    name: `TLP:${tlp}`,
    extensions: {
      [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: tlp.toLowerCase() },
    },
  };
}

/** What each handling code means, in the words of the statement marking that carries it. */
export const HANDLING_STATEMENTS: Readonly<Record<HandlingCode, string>> = Object.freeze({
  H0: 'FedIntel H0: for intelligence purposes; no restriction beyond TLP.',
  H1: "FedIntel H1: not to be used in judicial proceedings without the originator's permission.",
  H2: "FedIntel H2: no onward dissemination without the originator's permission.",
  H3: 'FedIntel H3: other conditions:',
});

/** The statement marking-definition for a handling code above H0 (none for H0). */
export function handlingMarkingDefinition(h: Handling): Record<string, unknown> | undefined {
  if (h.code === 'H0') return undefined;
  const statement =
    h.code === 'H3'
      ? `${HANDLING_STATEMENTS.H3} ${h.conditions ?? ''}`.trim()
      : HANDLING_STATEMENTS[h.code];
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: fedintelId('marking-definition', `handling|${statement}`),
    created: '2026-01-01T00:00:00.000Z',
    name: `FedIntel handling ${h.code}`,
    definition_type: 'statement',
    definition: { statement },
  };
}

/** Reads a statement back to a handling code; any statement that is not ours becomes H3. */
export function handlingOfStatement(statement: string): Handling {
  for (const code of ['H1', 'H2'] as const) {
    if (statement === HANDLING_STATEMENTS[code]) return { code };
  }
  if (statement.startsWith(HANDLING_STATEMENTS.H3)) {
    const conditions = statement.slice(HANDLING_STATEMENTS.H3.length).trim();
    return { code: 'H3', conditions: conditions === '' ? 'see originator' : conditions };
  }
  if (statement === HANDLING_STATEMENTS.H0) return { code: 'H0' };
  // A statement we do not recognise is kept verbatim as H3 conditions: strictest code, nothing lost.
  return { code: 'H3', conditions: statement.slice(0, 1000) };
}

/** The stricter of two handlings (H3 conditions are concatenated, never dropped). */
export function stricterHandling(a: Handling, b: Handling): Handling {
  if (a.code === 'H3' && b.code === 'H3') {
    const conditions = [...new Set([a.conditions, b.conditions].filter((c) => c))].join(' / ');
    return { code: 'H3', conditions: conditions.slice(0, 1000) || 'see originator' };
  }
  return HANDLING_CODES.indexOf(a.code) >= HANDLING_CODES.indexOf(b.code) ? a : b;
}

/** The stricter of two TLP levels. */
export const stricterTlp = narrowTlp;

/**
 * MISP `tlp:*` tags → TLP 2.0. `tlp:white` is TLP 1.0's name for CLEAR; `tlp:ex:chr` (a MISP
 * extension: Chatham House Rule) has no TLP meaning of its own and is refused.
 */
export function tlpOfMispTag(tag: string): Tlp | 'unknown' | undefined {
  const t = tag.trim().toLowerCase();
  if (!t.startsWith('tlp:')) return undefined;
  switch (t) {
    case 'tlp:white':
    case 'tlp:clear':
      return 'CLEAR';
    case 'tlp:green':
      return 'GREEN';
    case 'tlp:amber':
      return 'AMBER';
    case 'tlp:amber+strict':
      return 'AMBER+STRICT';
    case 'tlp:red':
      return 'RED';
    default:
      return 'unknown';
  }
}
