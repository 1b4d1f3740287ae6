/**
 * migrations/checksums.txt is the record of what shipped: node-pg-migrate keeps no checksums, so
 * an edited migration would otherwise leave databases that ran the old text with another schema.
 */
import { describe, expect, it } from '@jest/globals';
import { checkChecksums, EDITED_MESSAGE, MISSING_MESSAGE } from '../../../lib/adapters/postgres/migration-files.js';

describe('migrations/checksums.txt', () => {
  const { edited, missing, vanished } = checkChecksums();

  it('matches every migration it lists', () => {
    expect({ edited, why: edited.length > 0 ? EDITED_MESSAGE : 'ok' }).toEqual({ edited: [], why: 'ok' });
  });

  it('lists every migration', () => {
    expect({ missing, why: missing.length > 0 ? MISSING_MESSAGE : 'ok' }).toEqual({ missing: [], why: 'ok' });
  });

  it('lists no migration that is gone', () => {
    expect({ vanished, why: vanished.length > 0 ? 'a migration that shipped is never deleted: restore it' : 'ok' }).toEqual({ vanished: [], why: 'ok' });
  });
});
