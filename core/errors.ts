/**
 * One error class for the whole node, matched on `code` (never on message text),
 * after hypercore-errors: static factories name every failure a caller can handle.
 */
export type GrowrErrorCode =
  | 'BAD_ARGUMENT'
  | 'NOT_FOUND'
  | 'BAD_PASSPHRASE'
  | 'IDENTITY_EXISTS'
  | 'NO_IDENTITY'
  | 'NOT_WRITABLE'
  | 'OP_REJECTED'
  | 'TIMEOUT'
  | 'BAD_INVITE'
  | 'UNSUPPORTED_VERSION'
  | 'NOT_ELIGIBLE'
  | 'REVOKED'
  | 'WORKER_EXITED'
  | 'STORAGE_UNSAFE'
  | 'WALLET_EXISTS'
  | 'INSUFFICIENT_FUNDS'
  | 'BACKEND_UNREACHABLE'
  | 'BACKEND_ERROR'
  | 'INTERNAL'

export class GrowrError extends Error {
  /** Stable machine-readable code; tests and callers match on it. */
  readonly code: GrowrErrorCode

  constructor (code: GrowrErrorCode, message: string) {
    super(`${code}: ${message}`)
    this.name = 'GrowrError'
    this.code = code
  }

  static BAD_ARGUMENT (msg: string): GrowrError { return new GrowrError('BAD_ARGUMENT', msg) }
  /** A check the code makes on its own work failed (e.g. a signer returned another transaction than the one built): nothing was sent. */
  static INTERNAL (msg: string): GrowrError { return new GrowrError('INTERNAL', msg) }
  static NOT_FOUND (msg: string): GrowrError { return new GrowrError('NOT_FOUND', msg) }
  static BAD_PASSPHRASE (msg = 'passphrase does not open the identity file'): GrowrError { return new GrowrError('BAD_PASSPHRASE', msg) }
  static IDENTITY_EXISTS (msg: string): GrowrError { return new GrowrError('IDENTITY_EXISTS', msg) }
  static NO_IDENTITY (msg = 'no identity here yet: run `growr init` first'): GrowrError { return new GrowrError('NO_IDENTITY', msg) }
  static NOT_WRITABLE (msg: string): GrowrError { return new GrowrError('NOT_WRITABLE', msg) }
  static OP_REJECTED (msg: string): GrowrError { return new GrowrError('OP_REJECTED', msg) }
  static TIMEOUT (msg: string): GrowrError { return new GrowrError('TIMEOUT', msg) }
  static BAD_INVITE (msg: string): GrowrError { return new GrowrError('BAD_INVITE', msg) }
  static UNSUPPORTED_VERSION (msg: string): GrowrError { return new GrowrError('UNSUPPORTED_VERSION', msg) }
  /** The verification service found the applicant not eligible; the message lists why, in plain words. */
  static NOT_ELIGIBLE (msg: string): GrowrError { return new GrowrError('NOT_ELIGIBLE', msg) }
  /** The issuer revoked what it vouched for; it issues nothing more until its operator enrols the subject again. */
  static REVOKED (msg: string): GrowrError { return new GrowrError('REVOKED', msg) }
  /** The core worker process is gone; requests in flight and after fail with this. */
  static WORKER_EXITED (msg: string): GrowrError { return new GrowrError('WORKER_EXITED', msg) }
  /** A storage directory, identity file or socket another user owns or can write: refused, never used. */
  static STORAGE_UNSAFE (msg: string): GrowrError { return new GrowrError('STORAGE_UNSAFE', msg) }
  /** The node already has a different wallet seed: importing another one would lose its funds' keys. */
  static WALLET_EXISTS (msg: string): GrowrError { return new GrowrError('WALLET_EXISTS', msg) }
  /** The wallet's spendable coins do not cover the outputs and the fee; the message says how many sats are missing. */
  static INSUFFICIENT_FUNDS (msg: string): GrowrError { return new GrowrError('INSUFFICIENT_FUNDS', msg) }
  /** A chain backend (JSON-RPC endpoint) did not answer: connection refused, reset or timed out. The message names the URL, never a secret. */
  static BACKEND_UNREACHABLE (msg: string): GrowrError { return new GrowrError('BACKEND_UNREACHABLE', msg) }
  /** A chain backend answered, with an error: the method's RPC error, refused credentials, or an answer that is not JSON-RPC. */
  static BACKEND_ERROR (msg: string): GrowrError { return new GrowrError('BACKEND_ERROR', msg) }
}
