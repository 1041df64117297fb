// The PROXY protocol header (HAProxy's, v1 and v2) that a proxy sends first
// on each connection under --proxy-protocol: the client's address as the
// proxy saw it. A reader is fed the connection's first bytes and tells, once
// the header is whole, the client (null for a LOCAL or UNKNOWN header, whose
// connection keeps its own addresses) and the bytes read past it; anything
// that is not a well-formed header is refused, never guessed at. It knows no
// sockets: http/base-server.ts feeds it and keeps the deadline.

import { isIPv4, isIPv6 } from 'node:net';

/** The client a PROXY header names. */
export interface ProxiedClient {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

/** A whole header: the client it names (null: LOCAL, UNKNOWN or a non-IP family) and what followed it. */
export interface ProxyHeader {
  readonly client: ProxiedClient | null;
  readonly rest: Buffer;
}

/** Why a connection's first bytes are not a PROXY header. */
const ERRORS = {
  NOT_PROXY: 'not a PROXY protocol header',
  V1_TOO_LONG: 'PROXY v1 line longer than 107 bytes',
  V1_MALFORMED: 'malformed PROXY v1 line',
  V2_VERSION: 'PROXY v2 header with an unknown version or command',
  V2_FAMILY: 'PROXY v2 header with an unknown address family',
  V2_SHORT: 'PROXY v2 addresses shorter than their family needs',
} as const;
export type ProxyHeaderErrorCode = keyof typeof ERRORS;

export class ProxyHeaderError extends Error {
  constructor(readonly code: ProxyHeaderErrorCode) {
    super(ERRORS[code]);
  }
}

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
/** The longest v1 line, CRLF included (the specification's bound). */
const V1_MAX = 107;
/** Signature, version/command, family/transport, length. */
const V2_HEAD = 16;

const State = {
  /** Which version: the first bytes must begin one of the two signatures. */
  SIGNATURE: 0,
  /** A v1 text line, up to its CRLF. */
  V1_LINE: 1,
  /** A v2 header's 16 fixed bytes, then its addresses. */
  V2: 2,
} as const;
type State = (typeof State)[keyof typeof State];

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

/** Reads one PROXY header from a connection's first bytes. */
export class ProxyHeaderReader {
  private state: State = State.SIGNATURE;
  private buffered: Buffer = Buffer.alloc(0);

  /** Takes the next bytes (kept: a copy is made); the header once whole, else null. Throws a ProxyHeaderError. */
  feed(chunk: Buffer): ProxyHeader | null {
    this.buffered = this.buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffered, chunk]);
    const buf = this.buffered;
    for (;;) {
      switch (this.state) {
        case State.SIGNATURE: {
          if (startsLike(buf, V1_PREFIX)) {
            if (buf.length < V1_PREFIX.length) return null;
            this.state = State.V1_LINE;
          } else if (startsLike(buf, V2_SIGNATURE)) {
            if (buf.length < V2_SIGNATURE.length) return null;
            this.state = State.V2;
          } else {
            throw new ProxyHeaderError('NOT_PROXY');
          }
          break;
        }
        case State.V1_LINE: {
          const end = buf.subarray(0, V1_MAX).indexOf('\r\n', 0, 'latin1');
          if (end === -1) {
            if (buf.length >= V1_MAX) throw new ProxyHeaderError('V1_TOO_LONG');
            return null;
          }
          return { client: v1Client(buf.toString('latin1', V1_PREFIX.length, end)), rest: buf.subarray(end + 2) };
        }
        case State.V2: {
          if (buf.length < V2_HEAD) return null;
          const length = buf.readUInt16BE(14);
          if (buf.length < V2_HEAD + length) return null;
          return { client: v2Client(buf, length), rest: buf.subarray(V2_HEAD + length) };
        }
      }
    }
  }
}

/** Whether `buf`'s bytes so far agree with `signature`. */
function startsLike(buf: Buffer, signature: Buffer): boolean {
  const length = Math.min(buf.length, signature.length);
  return buf.compare(signature, 0, length, 0, length) === 0;
}

/** `TCP4|TCP6 SRC DST SPORT DPORT`, or `UNKNOWN` and anything. */
function v1Client(line: string): ProxiedClient | null {
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) return null;
  const fields = line.split(' ');
  if (fields.length !== 5) throw new ProxyHeaderError('V1_MALFORMED');
  const [protocol, source, destination, sourcePort, destinationPort] = fields as [string, string, string, string, string];
  const isAddress = protocol === 'TCP4' ? isIPv4 : protocol === 'TCP6' ? isIPv6 : null;
  if (isAddress === null || !isAddress(source) || !isAddress(destination)) throw new ProxyHeaderError('V1_MALFORMED');
  if (!validPort(sourcePort) || !validPort(destinationPort)) throw new ProxyHeaderError('V1_MALFORMED');
  return { address: source, port: Number(sourcePort), family: protocol === 'TCP4' ? 'IPv4' : 'IPv6' };
}

function validPort(text: string): boolean {
  return PORT.test(text) && Number(text) <= 65535;
}

/** The fixed part's version/command and family bytes, then the addresses that follow. */
function v2Client(buf: Buffer, length: number): ProxiedClient | null {
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) throw new ProxyHeaderError('V2_VERSION');
  const command = versionCommand & 0x0f;
  if (command === 0) return null; // LOCAL: the proxy's own connection (a health check)
  if (command !== 1) throw new ProxyHeaderError('V2_VERSION');
  const family = buf[13]! >> 4;
  switch (family) {
    case 0: // AF_UNSPEC
    case 3: // AF_UNIX
      return null;
    case 1: // AF_INET: source, destination, source port, destination port
      if (length < 12) throw new ProxyHeaderError('V2_SHORT');
      return { address: Array.from(buf.subarray(16, 20)).join('.'), port: buf.readUInt16BE(24), family: 'IPv4' };
    case 2: // AF_INET6
      if (length < 36) throw new ProxyHeaderError('V2_SHORT');
      return { address: ipv6Text(buf.subarray(16, 32)), port: buf.readUInt16BE(48), family: 'IPv6' };
    default:
      throw new ProxyHeaderError('V2_FAMILY');
  }
}

/** An IPv6 address's 16 bytes as text, in the shortest form (RFC 5952), as node:net writes addresses. */
function ipv6Text(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(bytes.subarray(12, 16)).join('.')}`;
  }
  // The longest run of two or more zero groups becomes "::".
  let runStart = -1;
  let runLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > runLength && j - i >= 2) [runStart, runLength] = [i, j - i];
    i = j;
  }
  const hex = (list: number[]) => list.map((group) => group.toString(16)).join(':');
  if (runStart === -1) return hex(groups);
  return `${hex(groups.slice(0, runStart))}::${hex(groups.slice(runStart + runLength))}`;
}
