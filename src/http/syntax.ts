// The character classes of HTTP fields (RFC 9110 §5), in one place for the
// parser, which checks bytes, for the Node-app path, which checks what
// node:http lets through, and for the checks of the names and values an app
// gives, which are strings. They run for every field of every request:
// each check is whichever measured cheaper here (a loop over a table for
// bytes and names, a regular expression for values).

export function byteTable(accepts: (byte: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let b = 0; b < 256; b++) table[b] = accepts(b) ? 1 : 0;
  return table;
}

const isAlnum = (b: number) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
/** tchar (RFC 9110 §5.6.2): the bytes of a token, such as a field name or a method. */
export const TOKEN = byteTable((b) => isAlnum(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)));
/** field-vchar, obs-text, SP and HTAB (RFC 9110 §5.5). */
export const FIELD_VALUE = byteTable((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f));

/** A Host value (RFC 9110 §7.2): a reg-name or an IP-literal, and a port. */
export const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]*)?$/;

/** `text` in lower case if it is a token (a valid field name), else null. */
export function lowerCaseToken(text: string): string | null {
  const length = text.length;
  if (length === 0) return null;
  let upper = false;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f || TOKEN[c] === 0) return null;
    if (c <= 0x5a && c >= 0x41) upper = true;
  }
  return upper ? text.toLowerCase() : text;
}

/** CR, LF, NUL, or a character beyond one byte. */
const UNSAFE_IN_VALUE = /[\r\n\0\u0100-\uffff]/;

/**
 * Whether `text` may not be a field value: it holds CR, LF or NUL, which would
 * end the line (or hide its end) on the wire, or a character beyond one byte.
 * (A regular expression here: it reads the string's characters directly, where
 * a charCodeAt() loop pays for finding them on every call, twice the cost.)
 */
export function isUnsafeValue(text: string): boolean {
  return UNSAFE_IN_VALUE.test(text);
}
