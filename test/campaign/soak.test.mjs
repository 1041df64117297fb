// `npm run soak`, short: the real campaign/soak.mjs with 20k requests, which exits 0 only when
// every promise of its table was kept (no failed request, RSS and descriptors flat, the same
// workers throughout). Needs wrk; skipped with a message where it is missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { runCampaign } from '../helpers/campaign.mjs';

const hasWrk = !spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error;

test('npm run soak -- 20k: every promise kept', { skip: hasWrk ? false : 'wrk is not installed (apt-get install wrk)', timeout: 120000 }, async () => {
  const { code, output } = await runCampaign('soak', ['20k'], 100000);
  assert.equal(code, 0, output);
  assert.match(output, /\| failed requests \(warm-up included\) \| 0 /);
  assert.match(output, /every promise kept/);
});
