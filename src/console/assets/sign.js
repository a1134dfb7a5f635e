// Signing a test token in the browser with Web Crypto: a PKCS#8 PEM private key (RSA or EC),
// the algorithm, and the claims. The key is imported as non-extractable and never sent anywhere.
//   const token = await signToken(pem, 'RS256', { userId: 'alice', userDirectory: 'ACME' });

const HASHES = { 256: 'SHA-256', 384: 'SHA-384', 512: 'SHA-512' };
export const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'];

function webCryptoAlgorithm(alg) {
  const bits = alg.slice(2);
  const hash = HASHES[bits];
  if (!hash || !ALGORITHMS.includes(alg)) throw new Error(`${alg} is not an algorithm this page signs with`);
  if (alg.startsWith('RS')) return { key: { name: 'RSASSA-PKCS1-v1_5', hash }, sign: { name: 'RSASSA-PKCS1-v1_5' } };
  if (alg.startsWith('PS')) return { key: { name: 'RSA-PSS', hash }, sign: { name: 'RSA-PSS', saltLength: Number(bits) / 8 } };
  const namedCurve = bits === '256' ? 'P-256' : 'P-384';
  return { key: { name: 'ECDSA', namedCurve }, sign: { name: 'ECDSA', hash } };
}

function pemBody(pem) {
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(pem);
  if (!match) {
    throw new Error(/BEGIN (RSA|EC) PRIVATE KEY/.test(pem)
      ? 'convert the key to PKCS#8 first: openssl pkcs8 -topk8 -nocrypt -in key.pem'
      : 'paste a PKCS#8 private key (-----BEGIN PRIVATE KEY-----)');
  }
  const binary = atob(match[1].replace(/\s+/g, ''));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function base64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const utf8 = (text) => new TextEncoder().encode(text);

export async function signToken(pem, alg, claims, kid) {
  if (!crypto?.subtle) throw new Error('Web Crypto is not available (the console must be opened over https)');
  const algorithm = webCryptoAlgorithm(alg);
  let key;
  try {
    key = await crypto.subtle.importKey('pkcs8', pemBody(pem), algorithm.key, false, ['sign']);
  } catch (error) {
    if (error.message?.startsWith('convert') || error.message?.startsWith('paste')) throw error;
    throw new Error(`the key does not fit ${alg} (${error.message || error.name})`);
  }
  const header = { alg, typ: 'JWT', ...(kid ? { kid } : {}) };
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
  const signature = new Uint8Array(await crypto.subtle.sign(algorithm.sign, key, utf8(input)));
  return `${input}.${base64url(signature)}`;
}
