// The status page (--status-path, SPEC §4): each worker's id, pid, state,
// requests received, connections open, RSS and uptime, and the totals, as
// text, JSON (`?json`) or Prometheus (`?prometheus`). It is answered before
// the app sees the request, by the worker the request reached, from the table
// the master sends every worker once a second (its figures come from the
// workers' heartbeats), with that worker's own line live; the master does no
// work per request, and a worker whose app is busy holds up no other's page.
//
// Only clients in --status-allow see it; others get 403. The client checked
// is the one the app is told of: the PROXY header's (--proxy-protocol), else
// a trusted proxy's (--forwarded-allow-ips), else the socket's peer. Behind a
// proxy on the same host every peer is the proxy, so checking the peer would
// show the page to everyone the proxy serves. A client over a UNIX socket has
// no address and is refused.

import { BlockList, isIP } from 'node:net';
import { errorBody } from '../http/writer.js';
import type { StatusTable, WorkerStatus } from './protocol.js';

/** What the server answers to a status request. */
export interface StatusAnswer {
  status: number;
  fields: Array<[string, string]>;
  body: string;
}

/** The figures as of one moment: uptimes reckoned, totals summed. */
interface Snapshot {
  uptime: number;
  workers: Array<Omit<WorkerStatus, 'startedAt'> & { uptime: number }>;
  totals: { requests: number; connections: number };
}

const FORMATS = {
  text: { type: 'text/plain; charset=utf-8', render: renderText },
  json: { type: 'application/json', render: (snapshot: Snapshot) => `${JSON.stringify(snapshot)}\n` },
  prometheus: { type: 'text/plain; version=0.0.4; charset=utf-8', render: renderPrometheus },
} as const;

/** Seconds from `from` to `now` (ms), to the millisecond. */
const secondsSince = (from: number, now: number) => Math.max(0, Math.round(now - from)) / 1000;

export class StatusPage {
  private readonly allowed = new BlockList();

  constructor(
    /** --status-path. */
    readonly path: string,
    /** --status-allow: addresses and CIDR ranges (checked when the options were read). */
    allow: readonly string[],
    /** The figures now. */
    private readonly table: () => StatusTable,
  ) {
    for (const item of allow) {
      const [address, prefix] = item.split('/') as [string, string | undefined];
      const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.allowed.addAddress(address, family);
      else this.allowed.addSubnet(address, Number(prefix), family);
    }
  }

  /** Whether a request target (origin form, any query) names the page. */
  names(target: string): boolean {
    const length = this.path.length;
    return target.startsWith(this.path) && (target.length === length || target.charCodeAt(length) === 0x3f /* ? */);
  }

  /** Whether `client` (an address as node:net writes it; IPv4-mapped IPv6 matches its IPv4 form) may see the page. */
  allows(client: string | undefined): boolean {
    const version = client === undefined ? 0 : isIP(client);
    return version !== 0 && this.allowed.check(client!, version === 4 ? 'ipv4' : 'ipv6');
  }

  /** The answer to a request for the page (names() said so) from `client`. */
  answer(method: string, target: string, client: string | undefined): StatusAnswer {
    if (!this.allows(client)) return { status: 403, fields: [['Content-Type', 'text/plain; charset=utf-8']], body: errorBody(403) };
    if (method !== 'GET' && method !== 'HEAD') {
      return { status: 405, fields: [['Content-Type', 'text/plain; charset=utf-8'], ['Allow', 'GET, HEAD']], body: errorBody(405) };
    }
    const query = new URLSearchParams(target.slice(this.path.length + 1));
    const format = query.has('json') ? FORMATS.json : query.has('prometheus') ? FORMATS.prometheus : FORMATS.text;
    return {
      status: 200,
      fields: [['Content-Type', format.type], ['Cache-Control', 'no-store']],
      body: format.render(this.snapshot(Date.now())),
    };
  }

  private snapshot(now: number): Snapshot {
    const table = this.table();
    const workers = table.workers.map(({ id, pid, state, requests, connections, rss, startedAt }) => ({
      id,
      pid,
      state,
      requests,
      connections,
      rss,
      uptime: secondsSince(startedAt, now),
    }));
    const totals = { requests: 0, connections: 0 };
    for (const worker of workers) {
      totals.requests += worker.requests;
      totals.connections += worker.connections;
    }
    return { uptime: secondsSince(table.startedAt, now), workers, totals };
  }
}

/** As ServerStatus::Lite: `Name: value` lines, then one line per worker under a line naming the columns. */
function renderText(snapshot: Snapshot): string {
  const lines = [
    `Uptime: ${Math.floor(snapshot.uptime)}`,
    `Workers: ${snapshot.workers.length}`,
    `Requests: ${snapshot.totals.requests}`,
    `Connections: ${snapshot.totals.connections}`,
    '--',
    'id pid state requests connections rss uptime',
    ...snapshot.workers.map((w) => `${w.id} ${w.pid} ${w.state} ${w.requests} ${w.connections} ${w.rss} ${Math.floor(w.uptime)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** One metric family of the Prometheus text format (0.0.4): its help, its type, a sample per worker. */
function family(name: string, type: 'counter' | 'gauge', help: string, snapshot: Snapshot, value: (worker: Snapshot['workers'][number]) => number): string {
  const samples = snapshot.workers.map((w) => `${name}{worker="${w.id}",pid="${w.pid}"} ${value(w)}\n`);
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${samples.join('')}`;
}

function renderPrometheus(snapshot: Snapshot): string {
  return [
    `# HELP starlight_workers Worker processes.\n# TYPE starlight_workers gauge\nstarlight_workers ${snapshot.workers.length}\n`,
    family('starlight_requests_total', 'counter', 'Requests the worker has received.', snapshot, (w) => w.requests),
    family('starlight_connections', 'gauge', 'Connections the worker has open.', snapshot, (w) => w.connections),
    family('starlight_worker_rss_bytes', 'gauge', "The worker's resident set size.", snapshot, (w) => w.rss),
    family('starlight_worker_uptime_seconds', 'gauge', 'Seconds since the worker started.', snapshot, (w) => w.uptime),
  ].join('');
}
