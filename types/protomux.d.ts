// Typed stubs for protomux and protomux-rpc (they ship no declarations). Only the surface
// core/network/peer-rpc.ts and its tests use is declared.

declare module 'protomux' {
  export default class Protomux {
    /** The stream's existing muxer (stream.userData) or a new one installed there. */
    static from (stream: unknown, opts?: Record<string, unknown>): Protomux
    static isProtomux (mux: unknown): boolean
    readonly isProtomux: true
    stream: unknown
  }
}

declare module 'protomux-rpc' {
  import { EventEmitter } from 'events'
  import type Protomux from 'protomux'

  export interface RpcEncoding {
    preencode (state: unknown, value: unknown): void
    encode (state: unknown, value: unknown): void
    decode (state: unknown): unknown
  }

  export interface ProtomuxRPCOptions {
    id?: Uint8Array
    protocol?: string
    /** null sends and receives raw Uint8Arrays; default c.optionalBuffer */
    valueEncoding?: RpcEncoding | null
    handshake?: unknown
    handshakeEncoding?: RpcEncoding
  }

  export interface RespondOptions { valueEncoding?: RpcEncoding | null; requestEncoding?: RpcEncoding | null; responseEncoding?: RpcEncoding | null }
  export interface RequestOptions { valueEncoding?: RpcEncoding | null; requestEncoding?: RpcEncoding | null; responseEncoding?: RpcEncoding | null; timeout?: number }

  /** Errors it rejects with carry `code`: CHANNEL_CLOSED, CHANNEL_DESTROYED, UNKNOWN_METHOD, REQUEST_ERROR, DECODE_ERROR, ENCODE_ERROR, TIMEOUT_EXCEEDED, DUPLICATE_CHANNEL. */
  export default class ProtomuxRPC extends EventEmitter {
    constructor (stream: unknown, opts?: ProtomuxRPCOptions)
    readonly opened: boolean
    readonly closed: boolean
    readonly mux: Protomux
    readonly stream: unknown
    fullyOpened (): Promise<void>
    respond (method: string, handler: (value: any) => unknown): this
    respond (method: string, opts: RespondOptions, handler: (value: any) => unknown): this
    unrespond (method: string): this
    request (method: string, value: unknown, opts?: RequestOptions): Promise<any>
    event (method: string, value: unknown, opts?: RequestOptions): void
    end (): Promise<void>
    destroy (err?: Error): void
  }
}
