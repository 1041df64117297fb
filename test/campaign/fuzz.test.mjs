// campaign/fuzz.mjs at a CI size, on a fixed seed: 5,000 differential inputs,
// 1,000 structured inputs through a socket, 300 echoed heads per app.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCampaign } from '../helpers/campaign.mjs';

test('npm run fuzz, bounded: every promise kept', async () => {
  const { code, output } = await runCampaign('fuzz', ['--diff=5000', '--count=1000', '--echo=300', '--seed=15']);
  assert.equal(code, 0, output);
  assert.match(output, /every promise kept/);
});
