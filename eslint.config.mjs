// @ts-check
import { builtinModules } from 'node:module';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node's built-in modules by every name they go by ("fs", "fs/promises", "node:fs"). */
const NODE_BUILTINS = {
  paths: builtinModules.map((name) => ({
    name,
    message: 'No Node APIs here (see ARCHITECTURE.md).',
  })),
  patterns: [{ group: ['node:*'], message: 'No Node APIs here (see ARCHITECTURE.md).' }],
};
const SERVER_SIDE = {
  group: [
    '@aws-sdk/*',
    '@temporalio/client',
    '@temporalio/worker',
    '@temporalio/activity',
    '@temporalio/testing',
  ],
  message: 'Sandbox-safe code: no AWS SDK, no Temporal client, worker or activity APIs.',
};

/**
 * The layers (ARCHITECTURE.md): common ← workflows; common ← mturk ← activities ← worker, cli.
 * Each block lists what its folder may not import; the emulator stands apart from all of them.
 */
export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'bench/results/', 'test/fixtures/**/node_modules/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The sandbox-safe core (`temporal-mturk/common`): loaded by workflows, clients and CLIs alike.
    files: ['src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...NODE_BUILTINS,
          patterns: [
            ...NODE_BUILTINS.patterns,
            {
              ...SERVER_SIDE,
              group: [...SERVER_SIDE.group, '@temporalio/workflow'],
            },
            {
              group: ['../*'],
              message:
                'src/common imports only itself (and pure packages): it is the bottom layer.',
            },
          ],
        },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox.
    files: ['src/workflows/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      // A promise nobody awaits is a command the workflow forgot (the batch-sliding-window sample).
      '@typescript-eslint/no-floating-promises': 'error',
      'no-restricted-imports': [
        'error',
        {
          ...NODE_BUILTINS,
          patterns: [
            ...NODE_BUILTINS.patterns,
            SERVER_SIDE,
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Workflows import activity types only (proxyActivities<...>).',
            },
            {
              group: ['../*', '!../common', '!../common/*', '!../activities', '!../activities/*'],
              message: 'Workflows import only @temporalio/workflow, ./ and ../common.',
            },
          ],
        },
      ],
    },
  },
  {
    // Activities talk to MTurk through src/mturk; they never see the emulator, the CLI or workflows.
    files: ['src/activities/**/*.ts', 'src/mturk/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../emulator', '../emulator/*', '../cli', '../cli/*'],
              message: 'Activities and the MTurk client never import the emulator or the CLI.',
            },
            {
              group: ['../workflows', '../workflows/*'],
              allowTypeImports: true,
              message: 'No runtime import from workflows (shared code lives in src/common).',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI, the client helpers and the worker use workflows by type and name only.
    files: ['src/cli/**/*.ts', 'src/*.ts'],
    ignores: ['src/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['./workflows', './workflows/*', '../workflows', '../workflows/*'],
              allowTypeImports: true,
              message:
                'Start workflows by type and name; shared code lives in src/common (workflowsPath loads the rest).',
            },
            {
              group: ['./emulator', './emulator/*', '../emulator/*'],
              message: 'Only the CLI emulator command imports the emulator.',
            },
          ],
        },
      ],
    },
  },
  {
    // The emulator is an independent implementation of MTurk: no shared money or validation code.
    files: ['src/emulator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', '!../emulator/*'],
              message: 'The emulator shares no code with the client side.',
            },
          ],
        },
      ],
    },
  },
);
