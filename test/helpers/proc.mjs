// What Linux shows of a process in /proc: its children, state, command line
// and open sockets, its resident set and open descriptors. server.mjs uses it to find a master's workers, process.mjs
// (which re-exports it) to watch them. Importing this module has no side effect.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The pids of `pid`'s children (every thread's), or [] when it is gone. */
export function childPids(pid) {
  const pids = new Set();
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const task of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/)) {
        if (child !== '') pids.add(Number(child));
      }
    } catch {
      // the thread ended
    }
  }
  return [...pids];
}

/** { state, ppid, session } from /proc/PID/stat, or null when there is no such process. */
export function procStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]), session: Number(fields[3]) };
}

/** The process's command line as ps shows it (its title, once set). */
export function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ').trim();
  } catch {
    return null;
  }
}

/** Running (not exited, not a zombie). */
export function isAlive(pid) {
  const stat = procStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

/** The master's children that are not zombies. */
export function livePids(master) {
  return childPids(master).filter(isAlive);
}

/** The sockets a process holds open, by inode (what /proc/PID/fd links to: "socket:[INODE]"). */
export function openSockets(pid) {
  const sockets = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:')) sockets.add(target);
    } catch {
      // closed meanwhile
    }
  }
  return sockets;
}

/** Sockets `pid` holds now that it did not hold in `before`: the connections it accepted since. */
export const newSockets = (pid, before) => [...openSockets(pid)].filter((socket) => !before.has(socket));

/** The process's resident set now (VmRSS), in KiB, or null when it is gone. */
export function rssKiB(pid) {
  try {
    const found = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return found === null ? null : Number(found[1]);
  } catch {
    return null;
  }
}

/** How many file descriptors the process holds open now, or null when it is gone. */
export function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}
