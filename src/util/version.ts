import { readFileSync } from 'node:fs';

/** tongban's version, from package.json (written into every manifest). */
export const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
