/**
 * Minimal typings for `sodium-universal` (libsodium via sodium-native / sodium-javascript),
 * covering only the calls Growr makes. All buffers are plain `Uint8Array`s; output buffers are
 * passed first and filled in place, exactly as libsodium's C API does.
 */
declare module 'sodium-universal' {
  namespace sodium {
    // Ed25519 signatures (crypto_sign)
    const crypto_sign_PUBLICKEYBYTES: number
    const crypto_sign_SECRETKEYBYTES: number
    const crypto_sign_SEEDBYTES: number
    const crypto_sign_BYTES: number
    function crypto_sign_keypair (publicKey: Uint8Array, secretKey: Uint8Array): void
    function crypto_sign_seed_keypair (publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void
    function crypto_sign_detached (signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void
    function crypto_sign_verify_detached (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean

    // Password hashing (crypto_pwhash, Argon2id)
    const crypto_pwhash_ALG_ARGON2ID13: number
    const crypto_pwhash_SALTBYTES: number
    const crypto_pwhash_BYTES_MIN: number
    const crypto_pwhash_BYTES_MAX: number
    const crypto_pwhash_OPSLIMIT_MIN: number
    const crypto_pwhash_OPSLIMIT_MAX: number
    const crypto_pwhash_OPSLIMIT_INTERACTIVE: number
    const crypto_pwhash_OPSLIMIT_SENSITIVE: number
    const crypto_pwhash_MEMLIMIT_MIN: number
    const crypto_pwhash_MEMLIMIT_MAX: number
    const crypto_pwhash_MEMLIMIT_INTERACTIVE: number
    const crypto_pwhash_MEMLIMIT_SENSITIVE: number
    function crypto_pwhash (
      out: Uint8Array,
      passwd: Uint8Array,
      salt: Uint8Array,
      opslimit: number,
      memlimit: number,
      alg: number
    ): void

    // Authenticated symmetric encryption (crypto_secretbox, XSalsa20-Poly1305)
    const crypto_secretbox_KEYBYTES: number
    const crypto_secretbox_NONCEBYTES: number
    const crypto_secretbox_MACBYTES: number
    function crypto_secretbox_easy (ciphertext: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array): void
    function crypto_secretbox_open_easy (message: Uint8Array, ciphertext: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean

    // Generic hashing (BLAKE2b)
    const crypto_generichash_BYTES: number
    const crypto_generichash_BYTES_MIN: number
    const crypto_generichash_BYTES_MAX: number
    const crypto_generichash_KEYBYTES: number
    function crypto_generichash (out: Uint8Array, input: Uint8Array, key?: Uint8Array): void
    const crypto_generichash_STATEBYTES: number
    function crypto_generichash_init (state: Uint8Array, key: Uint8Array | null, outlen: number): void
    function crypto_generichash_update (state: Uint8Array, input: Uint8Array): void
    function crypto_generichash_final (state: Uint8Array, out: Uint8Array): void
    function crypto_generichash_batch (out: Uint8Array, inputs: Uint8Array[], key?: Uint8Array): void

    // Randomness and memory hygiene
    function randombytes_buf (buffer: Uint8Array): void
    function sodium_memzero (buffer: Uint8Array): void
  }

  export = sodium
}
