// The container and Kubernetes configs of docs/deploy.md, read from the page (the tests run
// what it shows): a fenced block by its marker, the Dockerfile's ENV and CMD, and a folder laid
// out as the image's /srv/app (the page's app.mjs, a main.mjs of the test's, and
// node_modules/.bin/starlight). Importing this module has no side effect.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { BIN } from './server.mjs';
import { tempDir } from './process.mjs';

const DEPLOY_DOC = new URL('../../docs/deploy.md', import.meta.url);

/** The text of the fenced block right after `<!-- MARKER -->` in docs/deploy.md. */
export function docBlock(marker) {
  const doc = readFileSync(DEPLOY_DOC, 'utf8');
  const block = new RegExp(`<!-- ${marker} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\`\\n`).exec(doc);
  if (block === null) throw new Error(`docs/deploy.md has no fenced block after <!-- ${marker} -->`);
  return block[1];
}

/** The page's Dockerfile: { env: { NAME: value } (as written), cmd: [...] (exec form), stopSignal }. */
export function dockerfile() {
  const text = docBlock('container:dockerfile');
  const env = {};
  for (const [, name, value] of text.matchAll(/^ENV (\w+)=(\S+)$/gm)) env[name] = value;
  const cmd = /^CMD (\[.*\])$/m.exec(text);
  if (cmd === null) throw new Error(`the Dockerfile has no exec-form CMD:\n${text}`);
  return { env, cmd: JSON.parse(cmd[1]), stopSignal: /^STOPSIGNAL (\S+)$/m.exec(text)?.[1] ?? null };
}

/** The value of `--NAME=VALUE` among `args`, or undefined. */
export function optionValue(args, name) {
  return args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/**
 * A temporary folder laid out as the image's /srv/app: app.mjs from the page, `main` as
 * main.mjs (the source of "your app": it must default-export a Fetch app), and
 * node_modules/.bin/starlight (this checkout's). remove() deletes it.
 */
export function appFolder(main) {
  const dir = tempDir();
  writeFileSync(dir.file('app.mjs'), docBlock('container:app'));
  writeFileSync(dir.file('main.mjs'), main);
  mkdirSync(dir.file('node_modules/.bin'), { recursive: true });
  symlinkSync(BIN, dir.file('node_modules/.bin/starlight'));
  return dir;
}
