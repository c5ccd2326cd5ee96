import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parseStrictJson } from '../../../../libs/protocol/src/index.js';
import type { AuditEntry, ExportManifestFile } from '../../../../libs/audit/src/index.js';
import { UsageError } from '../usage-error.js';

/** A node's auditor API: its base URL (`http://host:port`, `/api/v1` accepted) and a token. */
export interface NodeApi {
  url: string;
  token: string;
}

/** `http://host:port` from `http://host:port`, `.../api/v1` or `.../api/v1/`. */
export function nodeBase(url: string, argument: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(argument, `"${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UsageError(argument, 'must be an http(s) URL');
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}`;
}

async function call(api: NodeApi, path: string): Promise<Response> {
  const res = await fetch(`${api.url}/api/v1/audit/${path}`, {
    headers: { authorization: `Bearer ${api.token}` },
    signal: AbortSignal.timeout(600_000),
  });
  if (res.status !== 200) {
    const text = await res.text();
    throw new Error(
      `${api.url}: GET /api/v1/audit/${path} answered ${res.status}: ${text.slice(0, 300)}`,
    );
  }
  return res;
}

/** The signed manifest of the node's log as it stands (fixes the export's size). */
export async function fetchManifest(api: NodeApi): Promise<ExportManifestFile> {
  return parseManifestFile(await (await call(api, 'export/manifest')).text(), api.url);
}

/**
 * The lines of a JSON Lines stream, in chunks (an array of lines per block read: iterating a
 * million lines one by one asynchronously costs more than verifying them). Lines end at `\n` only
 * and are passed on exactly, empty or not: an inserted blank line or a `\r` is for the verifier
 * to find. The text after the last `\n` is a line unless it is empty.
 */
export async function* splitLines(
  input: NodeJS.ReadableStream & AsyncIterable<string | Buffer>,
): AsyncGenerator<string[]> {
  input.setEncoding('utf8');
  let rest = '';
  for await (const chunk of input) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop() ?? '';
    if (parts.length > 0) yield parts;
  }
  if (rest !== '') yield [rest];
}

/** The export's lines (streamed in chunks, without newlines). */
export async function* fetchEntryLines(api: NodeApi, size: number): AsyncGenerator<string[]> {
  const res = await call(api, `export/entries?size=${size}`);
  if (!res.body) return;
  yield* splitLines(Readable.fromWeb(res.body as never));
}

/** Entries matching `query`, every page. */
export async function fetchEntries(
  api: NodeApi,
  query: Record<string, string>,
): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  let after = -1;
  for (;;) {
    const qs = new URLSearchParams({ ...query, afterSeq: String(after), limit: '5000' });
    const body = (await (await call(api, `entries?${qs.toString()}`)).json()) as {
      items: AuditEntry[];
    };
    out.push(...body.items);
    if (body.items.length < 5000) return out;
    after = body.items[body.items.length - 1]!.seq;
  }
}

export function parseManifestFile(text: string, where: string): ExportManifestFile {
  let v: unknown;
  try {
    v = parseStrictJson(text);
  } catch (cause) {
    throw new Error(`${where}: the manifest is not JSON`, { cause });
  }
  const o = v as Partial<ExportManifestFile>;
  const strings = (a: unknown): a is string[] =>
    Array.isArray(a) && a.every((s) => typeof s === 'string');
  if (
    typeof o.manifest !== 'string' ||
    typeof o.directory !== 'string' ||
    !strings(o.checkpoints) ||
    !strings(o.cosignatures)
  ) {
    throw new Error(
      `${where}: not an audit export manifest (manifest, checkpoints, cosignatures, directory)`,
    );
  }
  return {
    manifest: o.manifest,
    directory: o.directory,
    checkpoints: o.checkpoints,
    cosignatures: o.cosignatures,
  };
}

/** The manifest file next to an export: `x.jsonl` → `x.manifest.json`. */
export function manifestPathOf(jsonl: string): string {
  return jsonl.replace(/\.jsonl$/, '') + '.manifest.json';
}

/** Lines of a local export file (streamed in chunks, without newlines). */
export async function* fileLines(file: string): AsyncGenerator<string[]> {
  if (!existsSync(file)) throw new UsageError('<export>', `${file} does not exist`);
  yield* splitLines(createReadStream(file, { highWaterMark: 1 << 20 }));
}

export function readManifestFile(file: string): ExportManifestFile {
  if (!existsSync(file)) {
    throw new UsageError('<export>', `${file} (the signed manifest of the export) does not exist`);
  }
  return parseManifestFile(readFileSync(file, 'utf8'), file);
}
