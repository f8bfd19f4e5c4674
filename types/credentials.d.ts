/**
 * Typings for @digitalbazaar/bitstring (GZIP + base64url bitstrings of the W3C Bitstring Status
 * List), used by core/credentials/bitstring-status-list.ts.
 */
declare module '@digitalbazaar/bitstring' {
  export class Bitstring {
    constructor (options: { length: number } | { buffer: Uint8Array; leftToRightIndexing?: boolean })
    readonly bits: Uint8Array
    readonly length: number
    set (position: number, on: boolean): void
    get (position: number): boolean
    /** base64url (no padding, no multibase prefix) of the GZIP of the bits */
    encodeBits (): Promise<string>
    static decodeBits (options: { encoded: string }): Promise<Uint8Array>
  }
}
