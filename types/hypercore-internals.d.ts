// Declarations for the parts of Holepunch modules the receipts use that types/holepunch.d.ts
// does not cover: hypercore's manifest hashing, tree-signable and multisig encodings, Autobase's
// oplog message schema, and flat-tree's index arithmetic (a dependency of hypercore).
declare module 'flat-tree' {
  export function fullRoots (index: number, result?: number[]): number[]
  export function sibling (index: number, depth?: number): number
  export function parent (index: number, depth?: number): number
  export function depth (index: number): number
}

declare module 'hypercore/lib/verifier.js' {
  export interface ManifestSigner { signature: 'ed25519'; namespace: Uint8Array; publicKey: Uint8Array }
  export interface Manifest { version: number; hash: 'blake2b'; allowPatch: boolean; quorum: number; signers: ManifestSigner[]; prologue: null | { hash: Uint8Array; length: number }; linked: null | Uint8Array[]; userData: null | Uint8Array }
  export default class Verifier {
    static manifestHash (manifest: Manifest): Uint8Array
    static defaultSignerManifest (publicKey: Uint8Array): Manifest
  }
}

declare module 'hypercore/lib/caps.js' {
  export function treeSignable (manifestHash: Uint8Array, treeHash: Uint8Array, length: number, fork: number): Uint8Array
  export const DEFAULT_NAMESPACE: Uint8Array
}

declare module 'hypercore/lib/multisig.js' {
  export function inflate (data: Uint8Array): { proofs: Array<{ signer: number; signature: Uint8Array; patch: number }>; patch: unknown[] }
}

declare module 'autobase/lib/messages.js' {
  export interface OplogNode { heads: Array<{ key: Uint8Array; length: number }>; batch: number; value: Uint8Array | null }
  export interface OplogMessage { version: number; maxSupportedVersion: number; digest: unknown; checkpoint: unknown; optimistic: boolean; node: OplogNode }
  const messages: {
    OplogMessage: {
      preencode (state: unknown, m: OplogMessage): void
      encode (state: unknown, m: OplogMessage): void
      decode (state: unknown): OplogMessage
    }
  }
  export default messages
}
