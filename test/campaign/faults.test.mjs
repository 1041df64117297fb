// campaign/faults.mjs at a CI size: two master kills, a second master on the
// --pid file and the --socket, 20 requests on a full disk (a tmpfs as root,
// /dev/full otherwise) and a read-only log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCampaign } from '../helpers/campaign.mjs';

test('npm run faults, bounded: every promise kept', async () => {
  const { code, output } = await runCampaign('faults', ['--rounds=2', '--requests=20']);
  assert.equal(code, 0, output);
  assert.match(output, /every promise kept/);
});
