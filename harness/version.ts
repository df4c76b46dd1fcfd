import { readFileSync } from 'node:fs';

export const FAULTLINE_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
export const REPO_ROOT: string = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
