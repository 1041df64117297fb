// The package version, read once from package.json (one source of truth for
// --version, the Server header and the banner).
import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
