import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of src/, lowest first (docs/architecture.md). A layer imports only from layers
// below it — type-only imports included — so no lower layer reaches an orchestrator.
const LAYERS = [
  ['util', 'linalg'],
  ['data'],
  ['expr'],
  ['formula'],
  ['vcov'],
  ['models'],
  ['fit', 'inference'],
  ['specfile'],
  ['report'],
  ['stages'],
  ['cli'],
];
const layerRules = LAYERS.map((layer, k) => {
  const above = LAYERS.slice(k + 1).flat();
  return {
    files: layer.map((d) => `src/${d}/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: above.length
            ? [{ group: above.flatMap((d) => [`../${d}/*`, `../../${d}/*`]), message: `src/${layer.join(', src/')} may not import from a higher layer (${above.join(', ')}): see docs/architecture.md` }]
            : [],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/', 'outputs/', 'data/', 'scratch/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // plain Node scripts (bin/, scripts/)
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  ...layerRules,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
