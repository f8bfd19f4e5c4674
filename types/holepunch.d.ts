// Typed stubs for Holepunch modules that ship no declarations (see ../shared/STACK.md).
// Only the surface this project uses is declared.

declare module 'ready-resource' {
  import { EventEmitter } from 'events'
  export default class ReadyResource extends EventEmitter {
    opening: Promise<void> | null
    closing: Promise<void> | null
    opened: boolean
    closed: boolean
    ready (): Promise<void>
    close (): Promise<void>
    protected _open (): Promise<void>
    protected _close (): Promise<void>
  }
}

declare module 'safety-catch' {
  export default function safetyCatch (err: unknown): void
}

declare module 'hypercore-id-encoding' {
  export function encode (key: Uint8Array): string
  export function decode (id: string | Uint8Array): Uint8Array
  export function normalize (id: string | Uint8Array): string
  export function isValid (id: unknown): boolean
}

declare module 'z32' {
  export function encode (buf: Uint8Array): string
  export function decode (s: string): Uint8Array
}

declare module 'hypercore-crypto' {
  export function randomBytes (n: number): Uint8Array
  export function discoveryKey (key: Uint8Array): Uint8Array
  export function hash (data: Uint8Array | Uint8Array[]): Uint8Array
  export function keyPair (seed?: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array }
}

declare module 'corestore' {
  import { EventEmitter } from 'events'
  export interface Core extends EventEmitter {
    key: Uint8Array
    discoveryKey: Uint8Array
    length: number
    writable: boolean
    peers: unknown[]
    ready (): Promise<void>
    close (): Promise<void>
    update (opts?: { wait?: boolean }): Promise<boolean>
    treeHash (length?: number): Promise<Uint8Array>
  }
  export default class Corestore extends EventEmitter {
    constructor (storage: string, opts?: Record<string, unknown>)
    ready (): Promise<void>
    close (): Promise<void>
    get (opts: { name?: string; key?: Uint8Array } | Uint8Array): Core
    namespace (name: string): Corestore
    session (): Corestore
    replicate (stream: unknown): unknown
  }
}

declare module 'hyperbee' {
  import type { Core } from 'corestore'
  export interface BeeEntry<V = unknown> { seq: number; key: string; value: V }
  export interface Encodings { keyEncoding?: unknown; valueEncoding?: unknown }
  export interface Range extends Encodings { gt?: string; gte?: string; lt?: string; lte?: string; limit?: number; reverse?: boolean }
  export interface HyperbeeBatch {
    get<V = unknown> (key: string, opts?: Encodings): Promise<BeeEntry<V> | null>
    put (key: string, value: unknown, opts?: Encodings): Promise<void>
    del (key: string, opts?: Encodings): Promise<void>
    flush (): Promise<void>
    close (): Promise<void>
  }
  export default class Hyperbee {
    constructor (core: Core, opts?: Record<string, unknown>)
    core: Core
    version: number
    keyEncoding: unknown
    ready (): Promise<void>
    close (): Promise<void>
    get<V = unknown> (key: string, opts?: Encodings & { wait?: boolean }): Promise<BeeEntry<V> | null>
    put (key: string, value: unknown, opts?: Encodings): Promise<void>
    del (key: string, opts?: Encodings): Promise<void>
    batch (opts?: Record<string, unknown>): HyperbeeBatch
    sub (prefix: string, opts?: Encodings): Hyperbee
    snapshot (): Hyperbee
    createReadStream<V = unknown> (range?: Range, opts?: Encodings): AsyncIterable<BeeEntry<V>>
  }
}

declare module 'autobase' {
  import { EventEmitter } from 'events'
  import type Corestore from 'corestore'
  export interface ApplyNode { value: Uint8Array | null; from: { key: Uint8Array } }
  export interface ApplyHost {
    key: Uint8Array
    addWriter (key: Uint8Array, opts?: { indexer?: boolean }): Promise<void>
    removeWriter (key: Uint8Array): Promise<void>
    removeable (key: Uint8Array): boolean
    interrupt (reason?: string): void
  }
  export interface AutobaseHandlers<V> {
    open (store: Corestore): V
    apply (nodes: ApplyNode[], view: V, host: ApplyHost): Promise<void>
    close? (view: V): Promise<void>
    valueEncoding?: unknown
    ackInterval?: number
    encryptionKey?: Uint8Array
  }
  export default class Autobase<V = unknown> extends EventEmitter {
    constructor (store: Corestore, bootstrap: Uint8Array | null, handlers: AutobaseHandlers<V>)
    static getLocalKey (store: Corestore): Promise<Uint8Array>
    key: Uint8Array
    discoveryKey: Uint8Array
    local: { key: Uint8Array; length: number }
    view: V
    writable: boolean
    isIndexer: boolean
    opened: boolean
    closed: boolean
    signedLength: number
    length: number
    ready (): Promise<void>
    close (): Promise<void>
    append (value: Uint8Array | Uint8Array[]): Promise<void>
    update (): Promise<void>
    ack (bg?: boolean): Promise<void>
    waitForWritable (): Promise<void>
    heads (): Array<{ key: Uint8Array; length: number }>
  }
}

declare module 'hyperdht' {
  import { EventEmitter } from 'events'
  export interface BootstrapNode { host: string; port: number }
  export default class DHT extends EventEmitter {
    constructor (opts?: { bootstrap?: Array<BootstrapNode | string>; host?: string; port?: number; ephemeral?: boolean; firewalled?: boolean })
    static bootstrapper (port: number, host: string, opts?: Record<string, unknown>): DHT
    ready (): Promise<void>
    destroy (): Promise<void>
    address (): { host: string; port: number }
  }
}

declare module 'hyperdht/testnet.js' {
  import DHT from 'hyperdht'
  export interface Testnet {
    nodes: DHT[]
    bootstrap: Array<{ host: string; port: number }>
    createNode (opts?: Record<string, unknown>): DHT
    destroy (): Promise<void>
  }
  export default function createTestnet (size?: number, opts?: Record<string, unknown>): Promise<Testnet>
}

declare module 'hyperswarm' {
  import { EventEmitter } from 'events'
  import type DHT from 'hyperdht'
  export interface PeerDiscovery { flushed (): Promise<void>; destroy (): Promise<void> }
  export default class Hyperswarm extends EventEmitter {
    constructor (opts?: { dht?: DHT; keyPair?: { publicKey: Uint8Array; secretKey: Uint8Array }; bootstrap?: unknown })
    dht: DHT
    connections: Set<unknown>
    join (topic: Uint8Array, opts?: { server?: boolean; client?: boolean }): PeerDiscovery
    leave (topic: Uint8Array): Promise<void>
    flush (): Promise<void>
    suspend (): Promise<void>
    resume (): Promise<void>
    destroy (): Promise<void>
  }
}

declare module 'blind-pairing' {
  import type Hyperswarm from 'hyperswarm'
  export interface MemberRequest {
    inviteId: Uint8Array
    userData: Uint8Array
    open (publicKey: Uint8Array): Uint8Array
    confirm (res: { key: Uint8Array; encryptionKey?: Uint8Array | null }): void
    deny (): void
  }
  export interface Invite { id: Uint8Array; invite: Uint8Array; publicKey: Uint8Array; discoveryKey: Uint8Array }
  export default class BlindPairing {
    constructor (swarm: Hyperswarm, opts?: { poll?: number })
    static createInvite (key: Uint8Array, opts?: Record<string, unknown>): Invite
    static decodeInvite (invite: Uint8Array): { discoveryKey: Uint8Array; seed: Uint8Array }
    addMember (opts: { discoveryKey: Uint8Array; onadd (req: MemberRequest): Promise<void> }): { flushed (): Promise<void>; close (): Promise<void> }
    addCandidate (opts: { invite: Uint8Array; userData: Uint8Array; onadd (res: { key: Uint8Array; encryptionKey?: Uint8Array | null }): Promise<void> }): { pairing: Promise<unknown>; paired: boolean; close (): Promise<void> }
    close (): Promise<void>
  }
}
