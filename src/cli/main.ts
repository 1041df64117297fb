// The starlight command (bin/starlight.js imports this): parse the command line, then print the
// help or the version, or start serving. An error thrown on the way becomes a message on stderr
// and an exit code here: 2 for a usage error, the error's own exitCode, else 1. (Once a master
// runs, it reports a failed start itself, and its exit code is the command's.)
import { UsageError } from '../config/resolve.js';
import { VERSION } from '../config/version.js';
import { helpText } from './help.js';
import { parseCommandLine } from './parse.js';
import { run } from './run.js';

try {
  const commandLine = parseCommandLine(process.argv.slice(2), process.env);
  if (commandLine.action === 'help') process.stdout.write(helpText());
  else if (commandLine.action === 'version') process.stdout.write(`starlight ${VERSION} (node ${process.version})\n`);
  else await run(commandLine);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof UsageError ? "\nTry 'starlight --help'." : '';
  const code = (error as { exitCode?: unknown } | null | undefined)?.exitCode;
  // exit once the message is out: the server may already hold handles that would keep us alive
  process.stderr.write(`starlight: ${message}${hint}\n`, () => process.exit(typeof code === 'number' ? code : 1));
}
