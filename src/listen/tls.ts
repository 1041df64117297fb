// TLS on the TCP listeners (--ssl): the key, certificate chain and CA files,
// read once at start by the process that binds (before any privilege drop)
// and checked there, so that a missing file or a key that does not match its
// certificate stops the start; and, in each serving process, the handshake of
// every accepted TCP connection: ALPN http/1.1, client certificates as
// --ssl-verify-mode says, and a deadline (--header-timeout, from the accept)
// so that a client that never finishes its handshake holds nothing for long.
// The connection servers see only a TLSSocket, once its handshake is done.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type * as NodeCrypto from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate, Server as TlsServer, TLSSocket } from 'node:tls';
import type * as NodeTls from 'node:tls';
import type { Options } from '../config/options.js';
import { UsageError } from '../config/resolve.js';
import type { BoundListener, ClientHandle } from './bind.js';
import type { ProxiedClient } from './proxy-protocol.js';

// node:tls and node:crypto add ~2 MiB to a process and ~12 ms to its start: only a process
// that reads or serves --ssl loads them, at its first use (every master and most workers never do).
const require = createRequire(import.meta.url);
let tlsModule: typeof NodeTls | undefined;
let cryptoModule: typeof NodeCrypto | undefined;
const nodeTls = (): typeof NodeTls => (tlsModule ??= require('node:tls') as typeof NodeTls);
const nodeCrypto = (): typeof NodeCrypto => (cryptoModule ??= require('node:crypto') as typeof NodeCrypto);

/** The PEM contents of the --ssl files, as read at start (plain data: it travels to the workers). */
export interface TlsMaterial {
  key: string;
  cert: string;
  /** --ssl-ca-file: what client certificates are verified against. */
  ca: string | undefined;
  /** --ssl-client-ca-file: the CA names sent in the certificate request. */
  clientCa: string | undefined;
  /** --ssl-verify-mode: 0 none, 1 ask for a client certificate, 3 require one. */
  verifyMode: number;
}

/** A --ssl file that cannot be read or used: the start stops (exit 1). */
export class TlsFileError extends Error {
  readonly exitCode = 1;
}

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch (error) {
    throw new TlsFileError(`${option}=${file}: cannot read it: ${(error as Error).message}`);
  }
}

/** Reads and checks the --ssl files; null without --ssl. Throws a UsageError or a TlsFileError naming the file. */
export function readTlsMaterial(options: Options): TlsMaterial | null {
  if (!options.ssl) {
    const stray = (['sslKeyFile', 'sslCertFile', 'sslCaFile', 'sslClientCaFile'] as const).find((key) => options[key] !== undefined);
    if (stray !== undefined || options.sslVerifyMode !== 0) throw new UsageError('the --ssl-* options need --ssl');
    return null;
  }
  if (options.sslKeyFile === undefined || options.sslCertFile === undefined) {
    throw new UsageError('--ssl needs --ssl-key-file=FILE and --ssl-cert-file=FILE');
  }
  if (options.sslVerifyMode === 3 && options.sslCaFile === undefined) {
    throw new UsageError('--ssl-verify-mode=3 needs --ssl-ca-file=FILE to verify client certificates against');
  }
  const material: TlsMaterial = {
    key: readPem('--ssl-key-file', options.sslKeyFile),
    cert: readPem('--ssl-cert-file', options.sslCertFile),
    ca: options.sslCaFile === undefined ? undefined : readPem('--ssl-ca-file', options.sslCaFile),
    clientCa: options.sslClientCaFile === undefined ? undefined : readPem('--ssl-client-ca-file', options.sslClientCaFile),
    verifyMode: options.sslVerifyMode,
  };
  try {
    nodeTls().createSecureContext({ key: material.key, cert: material.cert });
  } catch (error) {
    const why = /key values mismatch/.test((error as Error).message) ? 'the key does not match the certificate' : (error as Error).message;
    throw new TlsFileError(`--ssl-key-file=${options.sslKeyFile} and --ssl-cert-file=${options.sslCertFile}: ${why}`);
  }
  for (const [option, pem] of [['--ssl-ca-file', material.ca], ['--ssl-client-ca-file', material.clientCa]] as const) {
    if (pem === undefined) continue;
    try {
      nodeTls().createSecureContext({ ca: pem });
    } catch (error) {
      throw new TlsFileError(`${option}=${option === '--ssl-ca-file' ? options.sslCaFile : options.sslClientCaFile}: ${(error as Error).message}`);
    }
  }
  return material;
}

/** Whether an accepted connection came through a TCP listener (TLS applies to those only, not to UNIX sockets). */
export function isTcpHandle(handle: ClientHandle): boolean {
  return handle.constructor.name === 'TCP';
}

/** A listener's URL, as serve() gives it: https: on a TCP listener with --ssl. */
export function listenerUrl(listener: BoundListener, tls: boolean): string {
  return withScheme(listener.url, listener, tls);
}

/** The listener as the banner shows it, `https:` where TLS applies. */
export function listenerShown(listener: BoundListener, tls: boolean): string {
  return withScheme(listener.shown, listener, tls);
}

/** TLS applies to TCP listeners (bound or inherited), which have a port; UNIX sockets have none. */
function withScheme(text: string, listener: BoundListener, tls: boolean): string {
  return tls && listener.port !== 0 ? text.replace(/^http:/, 'https:') : text;
}

/** The client's certificate, as node:tls describes it; null when it presented none. */
export function peerCertificateOf(socket: TLSSocket): PeerCertificate | null {
  const certificate = socket.getPeerCertificate();
  return certificate === null || Object.keys(certificate).length === 0 ? null : certificate;
}

/** The SHA-256 fingerprints of the certificates in a PEM file's text. */
function fingerprints(pem: string | undefined): Set<string> {
  const found = new Set<string>();
  for (const block of pem?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
    found.add(new (nodeCrypto().X509Certificate)(block).fingerprint256);
  }
  return found;
}

/** Whether a verified client chain (leaf to root, as node:tls gives it) holds one of `anchors`. */
function chainHolds(socket: TLSSocket, anchors: ReadonlySet<string>): boolean {
  let certificate: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  for (let depth = 0; certificate?.fingerprint256 !== undefined && depth < 16; depth++) {
    if (anchors.has(certificate.fingerprint256)) return true;
    if (certificate.issuerCertificate === certificate) break;
    certificate = certificate.issuerCertificate;
  }
  return false;
}

/** The handshake deadline's timer, kept on the TCP socket until the handshake is done. */
const DEADLINE = Symbol('handshake deadline');
/** The client a PROXY header named (--proxy-protocol), kept on the TCP socket for `secured`. */
const PROXIED = Symbol('proxied client');
type HandshakingSocket = Socket & { [DEADLINE]?: NodeJS.Timeout; [PROXIED]?: ProxiedClient | null };

/**
 * Makes the handshakes of one serving process. An accepted connection goes in
 * as a handle; it comes out, to `secured`, as a TLSSocket whose handshake is
 * done, or it is closed: a failed handshake, a client certificate missing
 * under --ssl-verify-mode=3 or not signed by --ssl-ca-file, or a handshake
 * not done within `deadlineMs` of the accept.
 */
export class TlsHandshaker {
  /** A node:tls server that never listens: its connection handling makes and checks each TLSSocket. */
  private readonly server: TlsServer;

  constructor(
    material: TlsMaterial,
    private readonly deadlineMs: number,
    secured: (socket: TLSSocket, client: ProxiedClient | null) => void,
  ) {
    // The names sent in the certificate request are those of the CAs the
    // context holds, which are also those OpenSSL verifies against: with
    // --ssl-client-ca-file, its CAs join --ssl-ca-file's there, and a chain
    // that ends at one of them alone is refused below.
    const ca = [material.ca, material.clientCa].filter((pem) => pem !== undefined);
    const anchors = material.clientCa === undefined ? null : fingerprints(material.ca);
    const required = (material.verifyMode & 2) !== 0;
    this.server = new (nodeTls().Server)(
      {
        key: material.key,
        cert: material.cert,
        ...(ca.length > 0 ? { ca } : {}),
        requestCert: (material.verifyMode & 1) !== 0,
        rejectUnauthorized: required,
        ALPNProtocols: ['http/1.1'],
        // The deadline below runs from the accept, whatever arrives meanwhile.
        handshakeTimeout: 0,
      },
      (socket: TLSSocket) => {
        // (node:tls keeps the TCP socket it wrapped as _parent.)
        const tcp = (socket as TLSSocket & { _parent: HandshakingSocket })._parent;
        clearTimeout(tcp[DEADLINE]);
        if (anchors !== null && socket.authorized && !chainHolds(socket, anchors)) {
          if (required) return void socket.destroy();
          socket.authorized = false;
          socket.authorizationError = new Error('the client certificate is not signed by a CA of --ssl-ca-file');
        }
        secured(socket, tcp[PROXIED] ?? null);
      },
    );
    // A failed handshake: node:tls has destroyed the socket; nothing to answer.
    this.server.on('tlsClientError', () => {});
  }

  /**
   * Begins the handshake of a connection accepted on a TCP listener: its
   * handle, or its socket once a PROXY header naming `client` was read.
   */
  accept(accepted: ClientHandle | Socket, client: ProxiedClient | null = null): void {
    const tcp: HandshakingSocket = accepted instanceof Socket ? accepted : new Socket({ handle: accepted, allowHalfOpen: true } as ConstructorParameters<typeof Socket>[0]);
    if (client !== null) tcp[PROXIED] = client;
    const deadline = setTimeout(() => tcp.destroy(), this.deadlineMs).unref();
    tcp[DEADLINE] = deadline;
    tcp.once('close', () => clearTimeout(deadline));
    this.server.emit('connection', tcp);
  }
}
