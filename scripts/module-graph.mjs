// The module graph of src/, read from the import statements (type imports included): which file
// imports which, folded into folders, each folder's place in the layering, any cycle, and the
// generated part of docs/architecture.md. `npm run docs` writes that part;
// test/structure/modules.test.mjs checks the layering, that there is no cycle, and that the
// committed document is what the imports say.
import { readFileSync, readdirSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

/**
 * The folders of src/ from the bottom up; a folder may import only from its own layer's folders
 * below it in this list (and from itself). `.` is src/ itself: the public API and the version.
 */
export const LAYERS = [
  { folder: 'config', job: 'the option table, value kinds, resolution of options' },
  { folder: 'log', job: 'the error log, the access log and the banner' },
  { folder: 'listen', job: 'listen specs; binding and accepting on sockets' },
  { folder: 'http', job: 'the HTTP/1.1 engine: parser, connection, request body, response framing, writer' },
  { folder: 'fetch', job: 'the Fetch adapter: Request in, Response out; light/ holds the light standard classes' },
  { folder: 'node', job: 'Node (req, res) apps: connections handed to node:http, with our limits' },
  { folder: 'app', job: 'finding, loading and classifying the app module' },
  { folder: 'worker', job: 'a serving process: boot, serve, heartbeat, retire; --workers=0' },
  { folder: 'master', job: 'the master loop, the pool of workers, the listeners handed to them, the pid file' },
  { folder: 'cli', job: 'the command: argv, --help, run' },
  { folder: '.', job: 'serve() and the public types; the version' },
];

/** Files in src/ that are not modules (ambient declarations). */
const NOT_MODULES = /\.d\.ts$/;
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

/** Every module of src/ (paths relative to src/, with `/`), and what each imports. */
export function readModules() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !NOT_MODULES.test(entry.name)) files.push(relative(SRC, path).split('\\').join('/'));
    }
  };
  walk(SRC);
  files.sort();
  const known = new Set(files);
  return files.map((file) => {
    const source = readFileSync(join(SRC, file), 'utf8');
    const imports = new Set();
    for (const match of source.matchAll(IMPORT)) {
      const target = posix.normalize(posix.join(posix.dirname(file), match[1] ?? match[2])).replace(/\.js$/, '.ts');
      if (!known.has(target)) throw new Error(`${file} imports ${match[1] ?? match[2]}, which is not a module of src/`);
      imports.add(target);
    }
    return { file, folder: folderOf(file), imports: [...imports].sort(), about: headerSentence(source) };
  });
}

/** The top folder of a module ('.' for src/ itself). */
export function folderOf(file) {
  const slash = file.indexOf('/');
  return slash < 0 ? '.' : file.slice(0, slash);
}

/** The first sentence of a module's header comment: what the module owns. */
function headerSentence(source) {
  const header = [];
  for (const line of source.split('\n')) {
    if (!line.startsWith('//')) break;
    header.push(line.replace(/^\/\/\s?/, ''));
  }
  const text = header.join(' ').replace(/\s+/g, ' ').trim();
  const end = text.search(/\.(\s|$)/);
  return end < 0 ? text : text.slice(0, end);
}

/** Folder -> the folders it imports from (itself excluded). */
export function folderEdges(modules) {
  const edges = new Map(LAYERS.map(({ folder }) => [folder, new Set()]));
  for (const { file, folder, imports } of modules) {
    if (!edges.has(folder)) throw new Error(`${file}: folder ${folder} has no place in LAYERS (scripts/module-graph.mjs)`);
    for (const target of imports) if (folderOf(target) !== folder) edges.get(folder).add(folderOf(target));
  }
  return edges;
}

/** Imports that go up or sideways in LAYERS: `from -> to` for each. */
export function layeringViolations(modules) {
  const rank = new Map(LAYERS.map(({ folder }, index) => [folder, index]));
  const violations = [];
  for (const { file, folder, imports } of modules) {
    for (const target of imports) {
      const to = folderOf(target);
      if (to !== folder && rank.get(to) >= rank.get(folder)) violations.push(`${file} -> ${target}`);
    }
  }
  return violations;
}

/** The cycles of a graph (Map node -> iterable of nodes): its strongly connected parts of two or more nodes. */
export function cycles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const found = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node), low.get(to)));
      } else if (stack.includes(to)) {
        low.set(node, Math.min(low.get(node), index.get(to)));
      }
    }
    if (low.get(node) === index.get(node)) {
      const part = stack.splice(stack.indexOf(node));
      if (part.length > 1) found.push(part.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** The generated part of docs/architecture.md: the folder graph as a Mermaid drawing, then every module and its job. */
export function architectureSection(modules) {
  const edges = folderEdges(modules);
  const id = (folder) => (folder === '.' ? 'root' : folder);
  const label = (folder) => (folder === '.' ? 'src/' : `${folder}/`);
  const lines = ['```mermaid', 'flowchart TD'];
  for (const { folder } of [...LAYERS].reverse()) lines.push(`  ${id(folder)}["${label(folder)}"]`);
  for (const { folder } of [...LAYERS].reverse()) {
    for (const to of [...edges.get(folder)].sort()) lines.push(`  ${id(folder)} --> ${id(to)}`);
  }
  lines.push('```', '');
  lines.push('| folder or module | imports (a folder: other folders; a module: its own folder\'s) | what it owns |', '| --- | --- | --- |');
  for (const { folder, job } of [...LAYERS].reverse()) {
    lines.push(`| **${label(folder)}** | ${[...edges.get(folder)].sort().map(label).join(', ') || '—'} | ${job} |`);
    for (const module of modules.filter((m) => m.folder === folder)) {
      const local = module.imports.filter((target) => folderOf(target) === folder).map((target) => posix.basename(target, '.ts'));
      lines.push(`| \`${module.file}\` | ${local.join(', ') || '—'} | ${module.about.replaceAll('|', '\\|')} |`);
    }
  }
  return lines.join('\n');
}

const BEGIN = '<!-- modules:begin (generated from the imports by `npm run docs`) -->';
const END = '<!-- modules:end -->';

/** `document` with its generated part replaced by `section`. */
export function withSection(document, section) {
  const start = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (start < 0 || end < start) throw new Error('docs/architecture.md has no modules:begin/end markers');
  return `${document.slice(0, start + BEGIN.length)}\n${section}\n${document.slice(end)}`;
}

export const ARCHITECTURE_DOC = join(ROOT, 'docs/architecture.md');
