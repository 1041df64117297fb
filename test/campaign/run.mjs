// Runs a campaign script (campaign/NAME.mjs) with small arguments, as CI does:
// its own checks are what fail it. Resolves { code, output }; a script still
// running after `timeoutMs` is killed by its pid (SIGINT first, so that it
// stops its servers).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exitWithin } from '../helpers/wait.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function runCampaign(name, args, timeoutMs = 60000) {
  const child = spawn(process.execPath, [`campaign/${name}.mjs`, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data) => (output += data));
  child.stderr.on('data', (data) => (output += data));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  let code = await exitWithin(exited, timeoutMs);
  if (code === null) {
    child.kill('SIGINT');
    if ((await exitWithin(exited, 5000)) === null) child.kill('SIGKILL');
    code = `timed out after ${timeoutMs} ms`;
  }
  return { code, output };
}
