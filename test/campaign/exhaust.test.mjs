// campaign/exhaust.mjs at a CI size: 300 clients against 256 descriptors, 500
// idle connections, 100 slowloris for 2 s, a 20 MiB response never read, a
// 64 MiB body.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCampaign } from '../helpers/campaign.mjs';

test('npm run exhaust, bounded: every promise kept', async () => {
  const { code, output } = await runCampaign('exhaust', ['--clients=300', '--idle=500', '--slow=100', '--seconds=2', '--stream-mib=20', '--body=64m']);
  assert.equal(code, 0, output);
  assert.match(output, /every promise kept/);
});
