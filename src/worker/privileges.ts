// --user, --group and --umask: whom the workers run as. The master resolves
// the names before it binds (an unknown one is a start error) and stays who it
// was started as: it runs no app code, and it must still remove the pid file
// and a socket file in root's folders at its exit, start its USR2 successor,
// and reopen the error log (USR1), whose file it gives to the workers' user. Each worker
// drops to the identity right after it starts, before it loads the app:
// supplementary groups, then the group, then the user (the order in which each
// step is still allowed), then the umask. With --workers=0 the one process
// drops once it has bound.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Options } from '../config/options.js';
import { identityRefusal } from '../config/platform.js';

/** Whom to become; null fields stay as they are. */
export interface Identity {
  uid: number | null;
  gid: number | null;
  /** The groups (--group's gids, else only the user's own group); null: unchanged. */
  groups: number[] | null;
  umask: number | undefined;
}

export class PrivilegeError extends Error {
  readonly exitCode = 1;
}

/** A passwd or group entry's fields, through NSS (getent), else the file; null: none. */
function lookup(database: 'passwd' | 'group', key: string): string[] | null {
  try {
    return execFileSync('getent', [database, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.split(':');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return null;
  }
  let text = '';
  try {
    text = readFileSync(`/etc/${database}`, 'utf8');
  } catch {
    return null;
  }
  const field = /^\d+$/.test(key) ? 2 : 0;
  return text.split('\n').map((line) => line.split(':')).find((fields) => fields[field] === key) ?? null;
}

function resolveGroup(name: string): number {
  const entry = lookup('group', name);
  if (entry !== null) return Number(entry[2]);
  if (/^\d+$/.test(name)) return Number(name);
  throw new PrivilegeError(`--group: no such group: ${name}`);
}

/** The identity of --user/--group/--umask, or null when none is given; throws on an unknown name or when not root. */
export function resolveIdentity(options: Pick<Options, 'user' | 'group' | 'umask'>): Identity | null {
  const { user, group, umask } = options;
  if (user === undefined && group === undefined && umask === undefined) return null;
  const refusal = user === undefined && group === undefined ? null : identityRefusal(process.platform);
  if (refusal !== null) throw new PrivilegeError(refusal);
  const identity: Identity = { uid: null, gid: null, groups: null, umask };
  if (user !== undefined) {
    const entry = lookup('passwd', user);
    if (entry === null && !/^\d+$/.test(user)) throw new PrivilegeError(`--user: no such user: ${user}`);
    identity.uid = entry === null ? Number(user) : Number(entry[2]);
    identity.gid = entry === null ? null : Number(entry[3]);
    // Root's supplementary groups are not kept: the user's own group alone, unless --group names more.
    identity.groups = identity.gid === null ? null : [identity.gid];
  }
  if (group !== undefined) {
    identity.groups = group.split(/[\s,]+/).filter((name) => name !== '').map(resolveGroup);
    identity.gid = identity.groups[0] ?? null;
  }
  const changes = (identity.uid !== null && identity.uid !== process.geteuid?.()) || (identity.gid !== null && identity.gid !== process.getegid?.());
  if (changes && process.geteuid?.() !== 0) {
    throw new PrivilegeError(`--user and --group need starlight started as root (it runs as uid ${process.geteuid?.()})`);
  }
  return identity;
}

/** Becomes `identity` for good (groups, group, user, umask). */
export function dropPrivileges(identity: Identity): void {
  if (identity.umask !== undefined) process.umask(identity.umask);
  // Not root: resolveIdentity() made sure that there is nothing to change.
  if (process.geteuid?.() !== 0) return;
  if (identity.groups !== null) process.setgroups?.(identity.groups);
  if (identity.gid !== null) process.setgid?.(identity.gid);
  if (identity.uid !== null) process.setuid?.(identity.uid);
}
