// Certificates for the TLS tests, made by Debian's openssl into a temporary
// directory: a CA, a server certificate for 127.0.0.1, ::1 and localhost (in
// subjectAltName) signed by it, a client certificate signed by it, a second CA
// whose client certificate the server must refuse, and a third CA only named
// in the certificate request (--ssl-client-ca-file), with a client certificate
// it signed (refused too: naming a CA is not trusting it). Also the PEM files of a
// key that matches no certificate here. Importing has no side effect.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why the TLS tests cannot run here, or null. */
export function opensslMissing() {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return probe.status === 0 ? null : 'openssl is not installed (Debian package openssl; .ci/run installs it)';
}

function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ca(dir, name, cn) {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`);
}

function signed(dir, name, cn, caName, extensions) {
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  const extra = [];
  if (extensions !== undefined) {
    writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
    extra.push('-extfile', `${name}.ext`);
  }
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...extra);
}

/** Makes the certificates; `file(name)` is a path in the directory, `pem(name)` a file's text. */
export function makeCertificates() {
  const dir = mkdtempSync(join(tmpdir(), 'starlight-tls-'));
  ca(dir, 'ca', 'Starlight Test CA');
  ca(dir, 'other-ca', 'Other CA');
  ca(dir, 'names-ca', 'Named Client CA');
  signed(dir, 'server', 'localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1');
  signed(dir, 'client', 'client one', 'ca');
  signed(dir, 'stranger', 'stranger', 'other-ca');
  signed(dir, 'named', 'named only', 'names-ca');
  const file = (name) => join(dir, name);
  return {
    dir,
    file,
    pem: (name) => readFileSync(file(name)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
