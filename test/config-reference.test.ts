// docs/configuration.md is generated from the config schema: this fails when the committed file no longer says
// what the schema says (run `npm run docs:config`), or when a key has nothing to say what it does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../gateway/config-reference.js';

describe('docs/configuration.md', () => {
  const rendered = renderConfigReference();

  it('is what `npm run docs:config` makes from the schema now', () => {
    const committed = readFileSync(join(import.meta.dirname, '..', 'docs', 'configuration.md'), 'utf8');
    expect(committed, 'docs/configuration.md is stale: run `npm run docs:config`').toBe(rendered);
  });

  it('says what every key does', () => {
    const undescribed = rendered
      .split('\n')
      .filter((line) => line.startsWith('| `') && line.endsWith('|  |'))
      .map((line) => line.split(' | ')[0]!.slice(2));
    expect(undescribed, 'add them to DESCRIPTIONS in gateway/config-reference.ts').toEqual([]);
  });

  it('has every key of the schema, with its default and bounds', () => {
    expect(rendered).toContain('| `wallet.storeKey` | string | **required** | 16+ characters |');
    expect(rendered).toContain('| `offline.storeLimit` | integer | `300000` | ≥ 0 |');
    expect(rendered).toContain('| `lanes[].scanners[].layout` | `"us"` \\| `"jp106"` | `"us"` |');
    expect(rendered).toContain('| `registers[].nextKeySha256` | string | — |');
  });
});
