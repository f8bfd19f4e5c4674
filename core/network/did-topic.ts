/**
 * DID topics: the HyperDHT topic a service node (issuer, verifier) announces itself on, so
 * anyone who knows its DID can find it without any other directory.
 *
 *   topic = BLAKE2b-256("growr/did-topic/v1" 0x00 || Ed25519 public key of the did:key)
 */
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { didToPublicKey } from '../identity/did-key.ts'

const DOMAIN = b4a.from('growr/did-topic/v1\0')
const TOPIC_BYTES = 32

/**
 * The 32-byte swarm topic of a DID. Pure: the same DID always gives the same topic, and the
 * domain tag keeps it apart from every other hash of the same key (book keys, discovery keys).
 *
 * @param did a bare `did:key:z6Mk...` identifier (Ed25519).
 * @returns 32 bytes, BLAKE2b (libsodium crypto_generichash) of the domain tag and the DID's public key.
 * @throws GrowrError BAD_ARGUMENT when `did` is not an Ed25519 did:key.
 */
export function didTopic (did: string): Uint8Array {
  const out = b4a.alloc(TOPIC_BYTES)
  sodium.crypto_generichash(out, b4a.concat([DOMAIN, didToPublicKey(did)]))
  return out
}
