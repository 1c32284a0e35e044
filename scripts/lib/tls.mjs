// Throwaway TLS material for tests: a CA and a server certificate for localhost / 127.0.0.1 it
// signed, made with the openssl command line in a temporary folder, plus the CA's SPKI pin
// (base64 SHA-256 of its public key) for Chromium's --ignore-certificate-errors-spki-list.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const OPENSSL = process.env.OPENSSL || 'openssl';

function openssl(dir, args) {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo, as Chromium pins keys. */
export function spkiPin(pem) {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Makes a CA and a server certificate (EC P-256, valid two days) in a new temporary folder.
 * Returns { dir, caFile, certFile (server certificate then CA), keyFile, caPin, dispose }.
 */
export function makeTestCertificates() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wasmqtt-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=wasmqtt test CA',
    '-keyout', 'ca.key', '-out', 'ca.crt']);
  openssl(dir, ['req', ...ec, '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(path.join(dir, 'server.ext'), [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n') + '\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key',
    '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.crt']);
  const caFile = path.join(dir, 'ca.crt');
  // The server presents its whole chain, so that a client can match the CA's pin in it.
  const chainFile = path.join(dir, 'chain.pem');
  writeFileSync(chainFile, readFileSync(path.join(dir, 'server.crt'), 'utf8') + readFileSync(caFile, 'utf8'));
  return {
    dir,
    caFile,
    certFile: chainFile,
    keyFile: path.join(dir, 'server.key'),
    caPin: spkiPin(readFileSync(caFile)),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
