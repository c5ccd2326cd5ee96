import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

// The import rules of docs/architecture.md are enforced by lint: these cases prove each rule
// fires (a rule that silently allowed everything would pass `npm run check`).
const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('import boundaries', () => {
  it('libs/protocol may not import Nest, TypeORM or NATS', async () => {
    for (const pkg of ['@nestjs/common', 'typeorm', '@nats-io/transport-node', 'class-validator']) {
      const ids = await ruleIds(
        `import * as x from '${pkg}';\nexport const y = x;\n`,
        'libs/protocol/src/errors.ts',
      );
      expect(ids).toContain('no-restricted-imports');
    }
  }, 60000);

  it('libs/protocol may not read the clock or the environment', async () => {
    expect(
      await ruleIds('export const t = Date.now();\n', 'libs/protocol/src/errors.ts'),
    ).toContain('no-restricted-syntax');
    expect(
      await ruleIds('export const e = process.env;\n', 'libs/protocol/src/errors.ts'),
    ).toContain('no-restricted-globals');
  }, 60000);

  it('apps never import each other', async () => {
    const ids = await ruleIds(
      "import { startNode } from '../../node/src/bootstrap.js';\nexport const s = startNode;\n",
      'apps/hub/src/main.ts',
    );
    expect(ids).toContain('no-restricted-imports');
  }, 60000);

  it('libs are imported only through their public door', async () => {
    const ids = await ruleIds(
      "import { parseRecord } from '../../../../libs/protocol/src/record.js';\nexport const p = parseRecord;\n",
      'apps/node/src/main.ts',
    );
    expect(ids).toContain('no-restricted-imports');
    const ok = await ruleIds(
      "import { parseRecord } from '../../../libs/protocol/src/index.js';\nexport const p = parseRecord;\n",
      'apps/node/src/main.ts',
    );
    expect(ok).not.toContain('no-restricted-imports');
  }, 60000);
});
