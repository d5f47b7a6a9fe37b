#!/usr/bin/env node
// Installed entry point: runs the compiled CLI in dist/ (built from src/ by `npm ci`, through
// the package's prepare script, or by `npm run build`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('tongban: dist/ is missing: run `npm ci` (or `npm run build`) in the tongban folder first\n');
  process.exit(2);
}
await import(main.href);
