// Running a campaign script (campaign/*.mjs) as a test does: to its end, as a child process,
// stopped by its pid (SIGINT, on which it stops what it started; SIGKILL 15 s later) when it
// outruns its limit. Importing this module has no side effect.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exitWithin } from './wait.mjs';

/** The file of campaign script `name` (e.g. 'soak'). */
export const campaignScript = (name) => fileURLToPath(new URL(`../../campaign/${name}.mjs`, import.meta.url));

/** Runs campaign script `name` with `args` (within `limitMs`); resolves { code, signal, output } (stdout and stderr together). */
export async function runCampaign(name, args, limitMs = 60000) {
  const child = spawn(process.execPath, [campaignScript(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  let exit = await exitWithin(exited, limitMs);
  if (exit === null) {
    child.kill('SIGINT');
    exit = await exitWithin(exited, 15000);
    if (exit === null) {
      child.kill('SIGKILL');
      exit = await exited;
    }
  }
  return { ...exit, output };
}
