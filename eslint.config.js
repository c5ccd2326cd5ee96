// Type-aware lint with zero warnings, plus the import graph of the monorepo (docs/architecture.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const deepLibImport = {
  group: ['**/libs/*/src/**', '!**/libs/*/src/index.js'],
  message: 'Import a lib only through its public door: libs/<name>/src/index.ts.',
};

const APPS = ['node', 'hub', 'cli'];

/** Apps never import each other. */
const appRule = (self) => ({
  files: [`apps/${self}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          deepLibImport,
          {
            regex: `^(\\.\\./)+(apps/)?(${APPS.filter((a) => a !== self).join('|')})/`,
            message: 'Apps never import each other; move shared code to a lib.',
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'data/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-imports': ['error', { patterns: [deepLibImport] }],
    },
  },
  appRule('node'),
  appRule('hub'),
  appRule('cli'),
  {
    // libs/protocol is pure: what the node, the hub and the auditor all trust.
    files: ['libs/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@nestjs/*',
                'typeorm',
                '@nats-io/*',
                'nats',
                'class-validator',
                'class-transformer',
                'better-sqlite3',
                'pg',
                'pino',
                '**/apps/**',
                '**/libs/**',
              ],
              message: 'libs/protocol is pure TypeScript: no framework, ORM, broker or other lib.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No environment reads in libs/protocol.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Time is a parameter in libs/protocol.',
        },
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Time is a parameter in libs/protocol.',
        },
      ],
    },
  },
  {
    files: [
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/*.e2e-spec.ts',
      '**/test/**/*.ts',
      'bench/**/*.ts',
    ],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
