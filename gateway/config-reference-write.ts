// `npm run docs:config`: writes docs/configuration.md from the config schema (config-reference.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigReference } from './config-reference.js';

const file = join(import.meta.dirname, '..', 'docs', 'configuration.md');
writeFileSync(file, renderConfigReference());
process.stdout.write(`wrote ${file}\n`);
