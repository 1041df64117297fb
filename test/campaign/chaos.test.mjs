// `npm run chaos`, short: the real campaign/chaos.mjs with 4 s per scenario (SIGKILL, HUP,
// TTIN/TTOU, --max-reqs-per-child, an app that throws and hangs), which exits 0 only when every
// promise of its table was kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCampaign } from '../helpers/campaign.mjs';

test('npm run chaos -- 4: every promise kept in each scenario', { timeout: 150000 }, async () => {
  const { code, output } = await runCampaign('chaos', ['4'], 130000);
  assert.equal(code, 0, output);
  for (const scenario of ['kill', 'hup', 'ttin-ttou', 'recycle', 'faults']) assert.match(output, new RegExp(`^\\| ${scenario}: `, 'm'), `no rows for ${scenario}`);
  assert.match(output, /every promise kept/);
});
