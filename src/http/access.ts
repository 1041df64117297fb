// This engine's requests in the access log (--access-log): an exchange seen as
// an access record through one view the server reuses for every line (the
// line is made at once, so nothing is allocated per request for it), and the
// requests the server refused itself before their head was whole, with what
// was read of their request line.

import { RefusedRequest, type AccessRecord } from '../log/access-format.js';
import type { AccessLog } from '../log/access-log.js';
import type { ConnectionAddresses, Exchange } from './exchange.js';
import { errorBody } from './writer.js';

/** Status logged for a request whose connection closed before its response began (as nginx logs it). */
export const CLOSED_BEFORE_RESPONSE = 499;

/** An exchange as the access log reads it. */
class ExchangeRecord implements AccessRecord {
  exchange!: Exchange;

  get remoteAddress(): string | undefined {
    return this.exchange.addresses.remoteAddress;
  }
  get localAddress(): string | undefined {
    return this.exchange.addresses.localAddress;
  }
  get localPort(): number | undefined {
    return this.exchange.addresses.localPort;
  }
  get method(): string {
    return this.exchange.head.method;
  }
  get target(): string {
    return this.exchange.head.target;
  }
  get protocol(): string {
    return this.exchange.head.minor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
  }
  get requestLine(): string {
    return this.exchange.requestLine;
  }
  get status(): number {
    const { status } = this.exchange;
    return status === 0 ? CLOSED_BEFORE_RESPONSE : status;
  }
  get bytesSent(): number {
    return this.exchange.bytesSent;
  }
  requestField(lowerName: string): string | null {
    return this.exchange.head.get(lowerName);
  }
  responseField(lowerName: string): string | null {
    const fields = this.exchange.fields;
    if (fields === null) return null;
    let found: string | null = null;
    for (const [name, value] of fields) {
      if (name.length === lowerName.length && name.toLowerCase() === lowerName) found = found === null ? value : `${found}, ${value}`;
    }
    return found;
  }
}

/** The access log of one HttpServer's requests. */
export class ExchangeLog {
  private readonly record = new ExchangeRecord();

  constructor(private readonly log: AccessLog) {}

  /** A request begins: what it is to remember as its start (see AccessLog.start()). */
  start(): number {
    return this.log.start();
  }

  /** Logs a request once its response is complete, or its connection gone. */
  exchange(exchange: Exchange): void {
    this.record.exchange = exchange;
    this.log.log(this.record, exchange.startedAt);
  }

  /** Logs a request the server answered `status` before its head was whole; `line`: what was read of its request line. */
  refused(status: number, line: string, addresses: ConnectionAddresses): void {
    logRefused(this.log, status, line, addresses);
  }
}

/**
 * Logs a request the server answered `status` itself, with its error page, before the app saw it
 * (either engine); `line`: what was read of its request line; `ends`: the client as the app would
 * be told of it, and the server's end.
 */
export function logRefused(log: AccessLog, status: number, line: string, ends: Pick<ConnectionAddresses, 'remoteAddress' | 'localAddress' | 'localPort'>): void {
  const record = new RefusedRequest(line, status, Buffer.byteLength(errorBody(status)), ends.remoteAddress, ends.localAddress, ends.localPort);
  log.log(record, log.start());
}
