/**
 * Ed25519 signing of the manifest (node:crypto only). The private key is PKCS#8 PEM, the public
 * key SPKI PEM, as `dashcam keygen` writes them and as `openssl pkey` reads them. A key's ID is
 * the first 16 hex digits of the SHA-256 of its SPKI DER, short enough to read aloud.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { FormatError } from './errors.js';
import { sha256Hex } from './bundle-manifest.js';

function ed25519(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new FormatError('BUNDLE_KEY', `${file} is a ${key.asymmetricKeyType ?? 'symmetric'} key; dashcam signs with Ed25519 (make one with dashcam keygen)`);
  return key;
}

export function loadPrivateKey(pem: string | Buffer, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new FormatError('BUNDLE_KEY', `${file} is not a PEM private key`, { cause: err });
  }
  return ed25519(key, file);
}

/** Accepts a public key, or a private key (its public half is used). */
export function loadPublicKey(pem: string | Buffer, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new FormatError('BUNDLE_KEY', `${file} is not a PEM public key`, { cause: err });
  }
  return ed25519(key, file);
}

export function spkiBase64(pub: KeyObject): string {
  return (pub.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
}

export function keyId(pub: KeyObject): string {
  return sha256Hex(pub.export({ type: 'spki', format: 'der' }) as Buffer).slice(0, 16);
}

export function publicKeyFromSpki(b64: string): KeyObject {
  try {
    return ed25519(createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' }), 'the manifest signer');
  } catch (err) {
    throw new FormatError('BUNDLE_SIGNATURE', 'the manifest names a signer key that is not a valid Ed25519 public key', { cause: err });
  }
}

export function signBytes(data: Uint8Array, priv: KeyObject): Buffer {
  return sign(null, data, priv);
}

export function verifyBytes(data: Uint8Array, sig: Uint8Array, pub: KeyObject): boolean {
  try {
    return verify(null, data, pub, sig);
  } catch {
    return false;
  }
}

export function generateKeyPair(): { privatePem: string; publicPem: string; id: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    id: keyId(publicKey),
  };
}
