// Builds dist/ from src/ (npm run build; run by `prepare` at npm ci and by `pretest`):
// one ESM bundle per entry point with the npm packages inside, split into chunks so that
// each command loads only what it uses (`tongban --help` loads the option declarations only).
// vega and vega-lite (plots) are large and imported on demand: esbuild puts them in a chunk of
// their own, loaded with the first figure. @resvg/resvg-js (PNG figures) stays outside the
// bundle: it loads a native binary for the platform.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: {
    main: 'src/cli/main.ts',
    pipeline: 'pipeline/run.ts',
    'rows-worker': 'src/models/rows-worker.ts',
    'serialize-worker': 'src/data/serialize-worker.ts',
    'csv-worker': 'src/data/csv-worker.ts',
    'qap-worker': 'src/inference/qap-worker.ts',
    'curve-null-worker': 'src/inference/curve-null-worker.ts',
    'multiverse-worker': 'src/stages/multiverse-worker.ts',
    'network-worker': 'src/inference/network-worker.ts',
    'word-worker': 'src/report/word-worker.ts',
  },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist',
  chunkNames: 'chunk-[hash]',
  external: ['@resvg/resvg-js'],
  // CommonJS packages inside an ESM bundle call require() for Node's own modules
  banner: { js: "import { createRequire as __tongbanRequire } from 'node:module'; const require = __tongbanRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
