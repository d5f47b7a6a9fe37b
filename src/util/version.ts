import pkg from '../../package.json' with { type: 'json' };

/** tongban's version, from package.json (written into every manifest). */
export const VERSION: string = pkg.version;
