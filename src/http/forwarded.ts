// --forwarded-allow-ips: the fields a proxy adds to say who the client is and
// how it came (RFC 7239 `Forwarded`, and `X-Forwarded-For`, `-Proto`,
// `-Host`), believed only from the listed peers. From them, a request's
// client address is the right-most address in the chain that is not itself a
// trusted proxy, and its scheme and host those the nearest proxy saw. From
// any other peer the fields are left for the app to read and never used.
// `Forwarded` wins over the X-Forwarded-* fields when a request has both.

import { isIP } from 'node:net';
import { AddressesOf, type ConnectionAddresses } from './exchange.js';

/** A request's header fields, as RequestHead gives them (names lower-cased). */
export interface HeaderFields {
  readonly fieldCount: number;
  name(i: number): string;
  value(i: number): string;
}

/** What the trusted fields of one request say; each part undefined where they say nothing. */
export interface ForwardedFacts {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly scheme: string | undefined;
  readonly host: string | undefined;
}

/** The peers whose forwarding fields are believed. */
export class ForwardingTrust {
  private readonly any: boolean;
  private readonly peers: ReadonlySet<string>;

  constructor(allowed: readonly string[]) {
    this.any = allowed.includes('*');
    this.peers = new Set(allowed.map(plainAddress));
  }

  /** Whether a peer (an address as node:net gives it, IPv4-mapped IPv6 matching its IPv4 form) is trusted. */
  trusts(address: string | undefined): boolean {
    return address !== undefined && (this.any || this.peers.has(plainAddress(address)));
  }

  /** What the forwarding values of a request from a trusted peer say of its client; null when they say nothing usable. */
  facts(fields: ForwardingValues): ForwardedFacts | null {
    const facts = fields.forwarded.length > 0 ? this.fromForwarded(fields.forwarded) : this.fromXForwarded(fields);
    return facts === null || (facts.remoteAddress === undefined && facts.scheme === undefined && facts.host === undefined) ? null : facts;
  }

  /**
   * RFC 7239: elements `for=...;proto=...;host=...`, comma-separated, one per
   * proxy, the nearest's last. The scheme and host are those of the element
   * whose `for` is the client: the proxy the client itself reached.
   */
  private fromForwarded(values: readonly string[]): ForwardedFacts | null {
    const elements = listElements(values).map(parseElement);
    if (elements.length === 0) return null;
    const index = this.clientIndex(elements.map((element) => element.get('for')));
    const client = index === -1 ? undefined : parseNode(elements[index]!.get('for'));
    const element = elements[index === -1 ? elements.length - 1 : index]!;
    return { remoteAddress: client?.address, remotePort: client?.port, scheme: schemeOf(element.get('proto')), host: hostOf(element.get('host')) };
  }

  /** X-Forwarded-For as a chain like Forwarded's; -Proto and -Host as the nearest proxy set them. */
  private fromXForwarded(fields: ForwardingValues): ForwardedFacts {
    const chain = listElements(fields.for);
    const index = this.clientIndex(chain);
    const client = index === -1 ? undefined : parseNode(chain[index]);
    return {
      remoteAddress: client?.address,
      remotePort: client?.port,
      scheme: schemeOf(listElements(fields.proto).pop()),
      host: hostOf(listElements(fields.host).pop()),
    };
  }

  /**
   * Where the client is in a chain of nodes (client first, nearest proxy
   * last): the right-most node that is not a trusted proxy, else the
   * left-most; -1 when that node is not an IP address (`unknown`, an
   * obfuscated `_name`: nothing past it is known).
   */
  private clientIndex(chain: Array<string | undefined>): number {
    for (let i = chain.length - 1; i >= 0; i--) {
      const node = parseNode(chain[i]);
      if (node === undefined) return -1;
      if (i === 0 || !this.trusts(node.address)) return i;
    }
    return -1;
  }
}

/** The forwarding fields' values, each list in the order the fields came. */
export interface ForwardingValues {
  readonly forwarded: string[];
  readonly for: string[];
  readonly host: string[];
  readonly proto: string[];
}

type ForwardingList = keyof ForwardingValues;

/** The forwarding fields by the length of their names, which tells them apart: [lower-case name, list]. */
const FORWARDING_BY_LENGTH: ReadonlyArray<readonly [string, ForwardingList] | undefined> = (() => {
  const table: Array<readonly [string, ForwardingList] | undefined> = [];
  for (const [name, list] of [['forwarded', 'forwarded'], ['x-forwarded-for', 'for'], ['x-forwarded-host', 'host'], ['x-forwarded-proto', 'proto']] as const) {
    table[name.length] = [name, list];
  }
  return table;
})();

/**
 * Adds a field to `values` (made on the first) if it is a forwarding field;
 * `name` in any case. Most fields are passed over on their name's length or
 * first letter, without a comparison.
 */
function sortField(values: ForwardingValues | null, name: string, value: string): ForwardingValues | null {
  const forwarding = FORWARDING_BY_LENGTH[name.length];
  if (forwarding === undefined) return values;
  const [wanted, list] = forwarding;
  if (name !== wanted && ((name.charCodeAt(0) | 0x20) !== wanted.charCodeAt(0) || name.toLowerCase() !== wanted)) return values;
  values ??= { forwarded: [], for: [], host: [], proto: [] };
  values[list].push(value);
  return values;
}

/** The forwarding values of the engine's RequestHead; null when none is a forwarding field. */
export function headForwardingValues(head: HeaderFields): ForwardingValues | null {
  let values: ForwardingValues | null = null;
  for (let i = 0; i < head.fieldCount; i++) values = sortField(values, head.name(i), head.value(i));
  return values;
}

/** The forwarding values of node:http's rawHeaders (name, value, ...); null when none is a forwarding field. */
export function forwardingValues(rawHeaders: readonly string[]): ForwardingValues | null {
  let values: ForwardingValues | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) values = sortField(values, rawHeaders[i]!, rawHeaders[i + 1]!);
  return values;
}

/** An IPv4-mapped IPv6 address as its IPv4 form. */
function plainAddress(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address.toLowerCase();
}

/** The elements of comma-separated lists, in order: trimmed, empty ones skipped, commas inside quotes kept. */
function listElements(values: readonly string[]): string[] {
  const elements: string[] = [];
  for (const value of values) {
    // (A value with neither comma nor quote, the usual one, is taken whole: no split, no pattern.)
    if (value.includes('"')) for (const part of value.match(/(?:"(?:[^"\\]|\\.)*"|[^,])+/g) ?? []) addElement(elements, part);
    else if (value.includes(',')) for (const part of value.split(',')) addElement(elements, part);
    else addElement(elements, value);
  }
  return elements;
}

function addElement(elements: string[], part: string): void {
  const element = part.trim();
  if (element !== '') elements.push(element);
}

/** A Forwarded element's pairs, names lower-cased, quoted values unquoted. */
function parseElement(element: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of element.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1) continue;
    let value = pair.slice(equals + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    pairs.set(pair.slice(0, equals).trim().toLowerCase(), value);
  }
  return pairs;
}

/** A node: `ADDR`, `ADDR:PORT`, `[V6]` or `[V6]:PORT`; undefined for anything else (`unknown`, `_hidden`). */
function parseNode(node: string | undefined): { address: string; port: number | undefined } | undefined {
  if (node === undefined) return undefined;
  if (isIP(node) !== 0) return { address: node, port: undefined };
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::([0-9]{1,5}))?$/.exec(node);
  if (match === null) return undefined;
  const address = match[1] ?? match[2]!;
  if (isIP(address) === 0) return undefined;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  return { address, port: port !== undefined && port <= 65535 ? port : undefined };
}

function schemeOf(value: string | undefined): string | undefined {
  const scheme = value?.toLowerCase();
  return scheme === 'http' || scheme === 'https' ? scheme : undefined;
}

/** A host[:port] as a Host field may carry it; anything else is not used. */
function hostOf(value: string | undefined): string | undefined {
  return value !== undefined && /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/.test(value) ? value : undefined;
}

/** A connection's addresses, with the client, scheme and host a trusted proxy named in their place. */
export class ForwardedAddresses extends AddressesOf {
  constructor(
    connection: ConnectionAddresses,
    private readonly facts: ForwardedFacts,
  ) {
    super(connection);
  }

  override get remoteAddress(): string | undefined {
    return this.facts.remoteAddress ?? this.connection.remoteAddress;
  }
  override get remotePort(): number | undefined {
    return this.facts.remoteAddress === undefined ? this.connection.remotePort : this.facts.remotePort;
  }
  override get remoteFamily(): string | undefined {
    const address = this.facts.remoteAddress;
    return address === undefined ? this.connection.remoteFamily : isIP(address) === 6 ? 'IPv6' : 'IPv4';
  }
  override get scheme(): string {
    return this.facts.scheme ?? this.connection.scheme;
  }
  override get forwardedHost(): string | undefined {
    return this.facts.host;
  }
}
