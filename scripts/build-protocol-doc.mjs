#!/usr/bin/env node
// Assembles docs/protocol.md from docs/protocol-parts/*.md (the parts are the sources).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../docs/protocol-parts/', import.meta.url).pathname;
const parts = readdirSync(dir)
  .filter((f) => /^\d\d-.*\.md$/.test(f))
  .sort();
const toc = parts.map((f) => {
  const title = readFileSync(join(dir, f), 'utf8').split('\n')[0].replace(/^#\s*/, '');
  return `- ${title}`;
});
const body = parts.map((f) => readFileSync(join(dir, f), 'utf8').trim()).join('\n\n---\n\n');
writeFileSync(
  new URL('../docs/protocol.md', import.meta.url),
  `# FedIntel protocol v1\n\n` +
    `The wire format of the federation, precise enough for an independent implementation. ` +
    `Generated from docs/protocol-parts/ by \`node scripts/build-protocol-doc.mjs\`; the golden ` +
    `vectors it names live under libs/protocol/test/vectors/ and are checked by the tests.\n\n` +
    `${toc.join('\n')}\n\n---\n\n${body}\n`,
);
console.log(`docs/protocol.md: ${parts.length} parts`);
