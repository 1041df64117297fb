// --reload: watches the app's folders and calls back, once a burst of changes
// has settled, with a file that changed. The master's callback only queues the
// same rolling restart as HUP, so a save that breaks the app leaves the old
// workers serving and the next good save rolls again.
//
// Each folder is watched on its own (fs.watch without `recursive`, which Node 20
// does not offer on every platform, and which would watch inside node_modules),
// walking the tree at the start and adding folders as they appear. Not watched,
// and no reason to restart: node_modules and dot-folders (.git, .cache...) and
// their contents; dot-files (editors' swap and lock files: .x.swp, .#x); names
// ending in ~ (backups), # autosaves (#x#), and vim's write probe 4913.
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, sep } from 'node:path';

/** Quiet time after the last change before the callback: an editor's save is several events. */
const SETTLE_MS = 200;

/** Whether a file or folder name is one a change to which is no reason to restart. */
function ignoredName(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.') || name.endsWith('~') || (name.startsWith('#') && name.endsWith('#')) || name === '4913';
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export class Reloader {
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private changed = '';

  constructor(
    private readonly onChange: (file: string) => void,
    /** A folder under the watched ones that cannot be watched (no permission, the inotify limit). */
    private readonly onUnwatchable: (message: string) => void,
  ) {}

  /** Watches `dirs` and the folders under them; throws if one of `dirs` cannot be watched. */
  watch(dirs: readonly string[]): void {
    for (const dir of dirs) this.watchTree(dir, true);
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  /** Watches `dir` and its folders; one that cannot be watched is skipped and reported, unless `required` (then it throws). */
  private watchTree(dir: string, required = false): void {
    if (this.watchers.has(dir)) return;
    let entries;
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => this.changedIn(dir, name));
      watcher.on('error', () => this.unwatch(dir));
      this.watchers.set(dir, watcher);
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      this.unwatch(dir);
      const message = `--reload cannot watch ${dir}: ${(error as Error).message}`;
      if (required) throw new Error(message);
      // Gone again before it could be watched: nothing to say.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.onUnwatchable(message);
      return;
    }
    for (const entry of entries) if (entry.isDirectory() && !ignoredName(entry.name)) this.watchTree(join(dir, entry.name));
  }

  /** Stops watching `dir` and the folders under it. */
  private unwatch(dir: string): void {
    for (const [path, watcher] of this.watchers) {
      if (path === dir || path.startsWith(dir + sep)) {
        watcher.close();
        this.watchers.delete(path);
      }
    }
  }

  private changedIn(dir: string, name: string | Buffer | null): void {
    if (name === null) return;
    const base = name.toString();
    if (ignoredName(base)) return;
    const path = join(dir, base);
    // A new folder (or one renamed in) is watched too; one that went is not (a new one may take its name).
    if (isFolder(path)) this.watchTree(path);
    else this.unwatch(path);
    this.changed = path;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onChange(this.changed);
    }, SETTLE_MS);
  }
}
