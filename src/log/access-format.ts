// The access log's line formats (SPEC §4): `combined`, `common`, `json`, or an
// Apache-style template, each compiled once, at start, into a function that
// makes one line from one request's record. Text that a client or an app
// controls is escaped as Apache escapes it (`\"`, `\\`, `\xHH` for controls
// and bytes outside printable ASCII), or as JSON escapes it in `json`, so that
// no request can forge a line. The time fields are made at most once a second
// (`%t`) or once a millisecond (`time`), and a template's line whose items are
// those of the line before (a client's next request, in the same second) is
// that line's string again, so that the log can copy its bytes.

import { ACCESS_LOG_DIRECTIVES } from '../config/options.js';
import { UsageError } from '../config/resolve.js';

/** What a line is made from: one request, as the server that answered it knows it. */
export interface AccessRecord {
  /** The client's address (a PROXY header's or a trusted proxy's word, where believed). */
  readonly remoteAddress: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** '' where the request line could not be read. */
  readonly method: string;
  /** The request-target as received; '' where unknown. */
  readonly target: string;
  /** `HTTP/1.1`; '' where unknown. */
  readonly protocol: string;
  /** The request line as received, or what was read of a refused one. */
  readonly requestLine: string;
  readonly status: number;
  /** Body bytes sent. */
  readonly bytesSent: number;
  /** The request's field of that (lower-case) name, several joined by ", "; null if absent. */
  requestField(lowerName: string): string | null;
  /** The response's field of that (lower-case) name; null if absent or unknown. */
  responseField(lowerName: string): string | null;
}

/** Makes a line (without its newline): `time`, when it is written, in ms since the epoch; the request's duration in ms. */
type LineMaker = (record: AccessRecord, time: number, durationMs: number) => string;

/** A compiled format. */
export interface AccessFormatter extends LineMaker {
  /** Its lines show the request's duration: without, nobody need time the requests. */
  readonly timed: boolean;
}

/** Who writes the lines: named in the `json` format. */
export interface LogWriter {
  readonly worker: number;
  readonly pid: number;
}

export const COMMON = '%h %l %u %t "%r" %>s %b';
export const COMBINED = `${COMMON} "%{Referer}i" "%{User-Agent}i"`;


// ---------------------------------------------------------------------------------------------
// Escaping

/** Anything other than printable ASCII, `"` and `\` excepted. */
const UNSAFE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

const hex = (byte: number): string => `\\x${byte < 16 ? '0' : ''}${byte.toString(16)}`;

/** Text as Apache logs it: `"` and `\` backslashed, other bytes outside printable ASCII as \xHH (UTF-8 beyond latin1). */
export function escapeLogText(text: string): string {
  if (!UNSAFE.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) out += '\\"';
    else if (code === 0x5c) out += '\\\\';
    else if (code >= 0x20 && code < 0x7f) out += text[i];
    else if (code <= 0xff) out += hex(code);
    else {
      const point = text.codePointAt(i)!;
      if (point > 0xffff) i++;
      for (const byte of Buffer.from(String.fromCodePoint(point), 'utf8')) out += hex(byte);
    }
  }
  return out;
}

/** An optional text as a log item: escaped, `-` when absent. */
const item = (text: string | null | undefined): string => (text == null ? '-' : escapeLogText(text));

// ---------------------------------------------------------------------------------------------
// Time

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

let apacheSecond = -1;
let apacheTime = '';
/** `[10/Oct/2000:13:55:36 -0700]`: the server's local time, as Apache's %t writes it; made once a second. */
export function apacheTimestamp(time: number): string {
  const second = Math.floor(time / 1000);
  if (second !== apacheSecond) {
    const date = new Date(second * 1000);
    const offset = -date.getTimezoneOffset();
    const zone = `${offset < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`;
    apacheTime =
      `[${two(date.getDate())}/${MONTHS[date.getMonth()]}/${date.getFullYear()}:` +
      `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone}]`;
    apacheSecond = second;
  }
  return apacheTime;
}

let isoMillisecond = -1;
let isoTime = '';
/** ISO 8601 in UTC, made once a millisecond. */
function isoTimestamp(time: number): string {
  const ms = Math.floor(time);
  if (ms !== isoMillisecond) {
    isoTime = new Date(ms).toISOString();
    isoMillisecond = ms;
  }
  return isoTime;
}

// ---------------------------------------------------------------------------------------------
// Templates

type Part = LineMaker;

const path = (target: string): string => {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
};

/**
 * An item maker that remembers the last text it escaped: a connection's address, the method, a
 * client's repeated target or agent (the parser hands out the same string again) cost one
 * comparison.
 */
function rememberingItem(): (text: string | null | undefined) => string {
  let lastText = '';
  let lastItem = '';
  return (text) => {
    if (text == null) return '-';
    if (text !== lastText) {
      lastItem = escapeLogText(text);
      lastText = text;
    }
    return lastItem;
  };
}

/** %r: from its pieces where it has them (the last ones' item remembered), else the line as read. */
function requestLinePart(): Part {
  const line = rememberingItem();
  let [lastMethod, lastTarget, lastProtocol, lastItem] = ['', '', '', '  '];
  return (r) => {
    const { method, target, protocol } = r;
    if (protocol === '') return line(r.requestLine === '' ? null : r.requestLine);
    if (method !== lastMethod || target !== lastTarget || protocol !== lastProtocol) {
      lastItem = `${escapeLogText(method)} ${escapeLogText(target)} ${escapeLogText(protocol)}`;
      [lastMethod, lastTarget, lastProtocol] = [method, target, protocol];
    }
    return lastItem;
  };
}

const remoteAddressPart = (): Part => {
  const address = rememberingItem();
  return (r) => address(r.remoteAddress);
};

/** A number's decimal text, remembered from the last call (a status, a size: mostly the one before). */
function rememberingNumber(): (n: number) => string {
  let lastNumber = NaN;
  let lastText = '';
  return (n) => {
    if (n !== lastNumber) {
      lastText = String(n);
      lastNumber = n;
    }
    return lastText;
  };
}

const statusPart = (): Part => {
  const status = rememberingNumber();
  return (r) => status(r.status);
};

const durationMs = (_r: AccessRecord, _time: number, ms: number): string => String(Math.round(ms));
const durationUs = (_r: AccessRecord, _time: number, ms: number): string => String(Math.round(ms * 1000));
const durationS = (_r: AccessRecord, _time: number, ms: number): string => String(Math.floor(ms / 1000));

/** The directives without an argument, by their letter(s): each makes its part (a template's own). */
const PLAIN: Readonly<Record<string, () => Part>> = {
  h: remoteAddressPart,
  a: remoteAddressPart,
  A: () => (r) => item(r.localAddress),
  p: () => (r) => (r.localPort === undefined ? '-' : String(r.localPort)),
  l: () => () => '-',
  u: () => () => '-',
  t: () => (_r, time) => apacheTimestamp(time),
  r: requestLinePart,
  m: () => (r) => item(r.method === '' ? null : r.method),
  U: () => (r) => item(r.target === '' ? null : path(r.target)),
  q: () => (r) => {
    const query = r.target.indexOf('?');
    return query === -1 ? '' : escapeLogText(r.target.slice(query));
  },
  H: () => (r) => item(r.protocol === '' ? null : r.protocol),
  s: statusPart,
  '>s': statusPart,
  b: () => {
    const bytes = rememberingNumber();
    return (r) => (r.bytesSent === 0 ? '-' : bytes(r.bytesSent));
  },
  B: () => {
    const bytes = rememberingNumber();
    return (r) => bytes(r.bytesSent);
  },
  D: () => durationUs,
  T: () => durationS,
  P: () => () => String(process.pid),
};

/** The units of %{UNIT}T. */
const DURATION: Readonly<Record<string, Part>> = { s: durationS, ms: durationMs, us: durationUs };

/** The directives that show the duration. */
const TIMED: ReadonlySet<Part> = new Set([durationS, durationMs, durationUs]);

const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function refuse(template: string, why: string): never {
  throw new UsageError(`--access-log-format: ${why} in ${JSON.stringify(template)} (a name: combined, common, json; or a template of ${ACCESS_LOG_DIRECTIVES})`);
}

/** The part of the directive at `template[at]` (just after its `%`), and where the template goes on. */
function directive(template: string, at: number): [Part, number] {
  if (template[at] === '{') {
    const close = template.indexOf('}', at);
    if (close === -1) refuse(template, 'an unclosed %{');
    const argument = template.slice(at + 1, close);
    const letter = template[close + 1];
    if (letter === 'i' || letter === 'o') {
      if (!FIELD_NAME.test(argument)) refuse(template, `%{${argument}}${letter}: not a field name`);
      const name = argument.toLowerCase();
      const field = rememberingItem();
      const part: Part = letter === 'i' ? (r) => field(r.requestField(name)) : (r) => field(r.responseField(name));
      return [part, close + 2];
    }
    if (letter === 'T' && DURATION[argument] !== undefined) return [DURATION[argument], close + 2];
    refuse(template, `%{${argument}}${letter ?? ''} is not a supported directive`);
  }
  for (const name of [template.slice(at, at + 2), template[at] ?? '']) {
    const part = PLAIN[name];
    if (name !== '' && part !== undefined) return [part(), at + name.length];
  }
  refuse(template, at >= template.length ? 'a lone % at the end' : `%${template[at]} is not a supported directive`);
}

/** An Apache-style template as one function. */
function compileTemplate(template: string): AccessFormatter {
  if (/[\x00-\x1f\x7f]/.test(template)) refuse(template, 'a control character');
  // The template as literal text around its directives: literals[i] comes before parts[i], the last literal after the last part.
  const parts: Part[] = [];
  const literals: string[] = [];
  let timed = false;
  let literal = '';
  for (let i = 0; i < template.length; ) {
    const percent = template.indexOf('%', i);
    if (percent === -1) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, percent);
    if (template[percent + 1] === '%') {
      literal += '%';
      i = percent + 2;
      continue;
    }
    const [part, next] = directive(template, percent + 1);
    timed ||= TIMED.has(part);
    literals.push(literal);
    literal = '';
    parts.push(part);
    i = next;
  }
  literals.push(literal);
  // A line whose items are those of the line before (a client's requests, the same second) is that
  // line again: the same string, which the log copies instead of encoding it once more.
  const items: string[] = parts.map(() => '');
  let line: string | null = null;
  const format: LineMaker = (record, time, ms) => {
    let same = line !== null;
    for (let i = 0; i < parts.length; i++) {
      const text = parts[i]!(record, time, ms);
      if (text !== items[i]) {
        items[i] = text;
        same = false;
      }
    }
    if (same) return line!;
    let made = literals[0]!;
    for (let i = 0; i < parts.length; i++) made += items[i]! + literals[i + 1]!;
    line = made;
    return made;
  };
  return Object.assign(format, { timed });
}

// ---------------------------------------------------------------------------------------------
// JSON

const json = (text: string | null | undefined): string => (text == null ? 'null' : JSON.stringify(text));

/** The `json` format: one object per line. */
function jsonFormatter(writer: LogWriter): AccessFormatter {
  const tail = `,"worker":${writer.worker},"pid":${writer.pid}}`;
  const format: LineMaker = (r, time, ms) =>
    `{"time":"${isoTimestamp(time)}","remote_addr":${json(r.remoteAddress)},"method":${json(r.method)},` +
    `"url":${json(r.target)},"protocol":${json(r.protocol)},"status":${r.status},"bytes":${r.bytesSent},` +
    `"duration_ms":${Math.round(ms * 1000) / 1000},"referer":${json(r.requestField('referer'))},` +
    `"user_agent":${json(r.requestField('user-agent'))}${tail}`;
  return Object.assign(format, { timed: true });
}

/** --access-log-format: a format's name or a template, compiled; a UsageError names what is wrong. */
export function compileAccessFormat(format: string, writer: LogWriter): AccessFormatter {
  switch (format) {
    case 'combined':
      return compileTemplate(COMBINED);
    case 'common':
      return compileTemplate(COMMON);
    case 'json':
      return jsonFormatter(writer);
    default:
      return compileTemplate(format);
  }
}

// ---------------------------------------------------------------------------------------------
// A request the server refused itself

/**
 * A request refused before it was whole (malformed, too large, too slow): what was read of its
 * request line, split as a request line would be.
 */
export class RefusedRequest implements AccessRecord {
  readonly method: string;
  readonly target: string;
  readonly protocol: string;

  constructor(
    readonly requestLine: string,
    readonly status: number,
    readonly bytesSent: number,
    readonly remoteAddress: string | undefined,
    readonly localAddress: string | undefined,
    readonly localPort: number | undefined,
  ) {
    // Split at its first two spaces, the rest (spaces and all) the protocol: %r puts the pieces back together.
    const first = requestLine.indexOf(' ');
    const second = first === -1 ? -1 : requestLine.indexOf(' ', first + 1);
    this.method = first === -1 ? requestLine : requestLine.slice(0, first);
    this.target = first === -1 ? '' : requestLine.slice(first + 1, second === -1 ? undefined : second);
    this.protocol = second === -1 ? '' : requestLine.slice(second + 1);
  }

  requestField(): null {
    return null;
  }

  responseField(): null {
    return null;
  }
}
