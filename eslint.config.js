import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.build-*/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Built-in plugins use liveview exactly as a third-party plugin does: through the SDK entry.
    files: ['src/plugins/**/*.ts', 'src/protocols/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/core/*', '**/api/*', '**/server.js', '**/cli.js'],
              message:
                "Plugins import liveview only through the SDK entry ('../../index.js', which third parties import as 'liveview').",
            },
          ],
        },
      ],
    },
  },
);
