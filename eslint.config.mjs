// ESLint flat config: typescript-eslint's recommended rules over the three TypeScript projects.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', '.cache/**', 'test/**', 'bench/**', 'scripts/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['server/src/**/*.ts', 'client/src/**/*.ts', 'simulator/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // The language server talks LSP on stdout: nothing else may write there.
    files: ['server/src/server.ts', 'server/src/features/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
);
