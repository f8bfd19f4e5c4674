/**
 * The Bitcoin payer's transactions as PSBTs (BIP-174, version 0), over @scure/btc-signer (it runs
 * under Bare; bitcoinjs-lib does not).
 *
 * - {@link buildPsbt}: coins of a BIP-84 account, outputs by address (one or several: a
 *   distribution pays every investor in one transaction), a fee rate with a floor; coin selection
 *   ({@link selectCoins}), change to the caller's fresh internal (chain 1) address, every input's
 *   nSequence 0xfffffffd (replace-by-fee signalled, BIP-125), witnessUtxo and bip32Derivation (the
 *   account's master fingerprint and path) on every input and on the change output.
 * - {@link checkPsbt}: the signer's check, pure, never throws: the PSBT spends exactly the coins
 *   the wallet selected, at the amounts and scripts the wallet knows (not the amounts the PSBT
 *   claims: a lowered witnessUtxo amount hides a higher fee), signals RBF, and pays the outputs
 *   that were built.
 * - {@link signPsbt}: runs that check, signs each input with the key derived from the seed at the
 *   coin's own path (SIGHASH_ALL, BIP-143), zeroes each private key after use, finalizes, and
 *   extracts the raw transaction.
 *
 * No I/O, no clock, no logging; ECDSA signatures are deterministic (RFC 6979).
 */
import '../../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { Address, OutScript, SigHash, Transaction, bip32Path } from '@scure/btc-signer'
import { base64, hex } from '@scure/base'
import { GrowrError } from '../../errors.ts'
import { Bip84Account, addressFor, btcSignerNetwork, derivePrivateKey, type Bip84Address, type Bip84Chain, type BitcoinNetwork } from '../../wallet/bip84.ts'
import { selectCoins, type CoinSelection, type CoinSelectOutput } from './coin-select.ts'

/** nSequence of every input: below 0xfffffffe, so the transaction signals replaceability (BIP-125). */
export const RBF_SEQUENCE = 0xfffffffd

/** A coin of the wallet: an unspent P2WPKH output at `chain/index` of the account. */
export interface WalletUtxo {
  /** Transaction id, 64 hex characters, display (RPC) order. */
  txid: string
  vout: number
  /** sats. */
  amount: bigint
  /** Which chain of the account holds its address: receive (0) or change (1). */
  chain: Bip84Chain
  /** Address index on that chain. */
  index: number
}

/** A selected coin with what the PSBT needs: its script, public key and path. */
export interface SelectedUtxo extends WalletUtxo {
  script: Uint8Array
  publicKey: Uint8Array
  /** e.g. m/84'/1'/0'/0/3 */
  path: string
}

/** One payment: an address of the account's network and an amount in sats. */
export interface PaymentOutput {
  address: string
  amount: bigint
}

/** What {@link buildPsbt} takes. */
export interface BuildPsbtRequest {
  /** The paying account (from a seed, or watch-only from its xpub); its network is the transaction's. */
  account: Bip84Account
  /** The account's coins available (from the backend's view of its addresses). */
  utxos: readonly WalletUtxo[]
  /** The payments, in order. */
  outputs: readonly PaymentOutput[]
  /** sat/vB, from the backend's estimate; bigint or safe integer. */
  feeRate: bigint | number
  /** Floor under feeRate, sat/vB (default 1). */
  minFeeRate?: bigint | number
  /** A fresh address of the account's change chain (`account.change(i)` at an unused i). */
  changeAddress: Bip84Address
}

/** The result of {@link buildPsbt}. */
export interface BuiltPsbt {
  /** The unsigned PSBT, base64 (BIP-174's text form). */
  psbt: string
  /** The transaction id it will have once signed (SegWit: signatures do not change it). */
  txid: string
  /** The coins spent, the outputs, the change, the fee (sats) and the estimated vsize. */
  selection: CoinSelection<SelectedUtxo>
}

/** What {@link checkPsbt} compares a PSBT against: what {@link buildPsbt} selected. */
export interface PsbtExpectation {
  inputs: readonly SelectedUtxo[]
  /** The payments then the change, in transaction order; omit to check the inputs only. */
  outputs?: readonly CoinSelectOutput[]
}

/** The signer's verdict. */
export type PsbtCheck =
  | { ok: true, fee: bigint }
  | { ok: false, reason: string }

/** The result of {@link signPsbt}. */
export interface SignedTransaction {
  /** The raw signed transaction, hex, for `sendrawtransaction`. */
  hex: string
  txid: string
  /** The finalized PSBT, base64. */
  psbt: string
  /** sats, from the wallet's own amounts. */
  fee: bigint
  /** The actual virtual size, vbytes. */
  vsize: number
}

/**
 * The scriptPubKey an address pays, for a given network.
 *
 * @param address a Bitcoin address (bech32/bech32m or base58check).
 * @param network the network it must belong to.
 * @returns the scriptPubKey bytes.
 * @throws GrowrError BAD_ARGUMENT when it does not decode, or belongs to another network (another
 *   bech32 prefix or base58 version), naming the network expected.
 */
export function outputScript (address: string, network: BitcoinNetwork): Uint8Array {
  if (typeof address !== 'string' || address.length === 0) throw GrowrError.BAD_ARGUMENT('an output address must be a non-empty string')
  try {
    return OutScript.encode(Address(btcSignerNetwork(network)).decode(address))
  } catch {
    const lower = address.toLowerCase()
    const sep = lower.lastIndexOf('1')
    const prefix = sep > 0 ? lower.slice(0, sep) : ''
    if (prefix !== '' && prefix !== network.bech32 && /^(bc|tb|bcrt|rb)$/.test(prefix)) {
      throw GrowrError.BAD_ARGUMENT(`address ${address} is for another network (prefix '${prefix}'), not ${network.name} ('${network.bech32}')`)
    }
    throw GrowrError.BAD_ARGUMENT(`address ${address} is not a valid ${network.name} address`)
  }
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Build the unsigned PSBT that pays `outputs` from the account's coins.
 *
 * @param req see {@link BuildPsbtRequest}.
 * @returns the PSBT (base64), its future txid, and the selection (inputs with their paths,
 *   outputs, change or null, fee in sats, estimated vsize in vbytes).
 * @throws GrowrError BAD_ARGUMENT: an output address of another network or malformed; a change
 *   address not on this account's change chain, or one of the coins' own addresses; a coin with a
 *   bad chain or index; and every refusal of {@link selectCoins} (fee rate below the floor, dust).
 * @throws GrowrError INSUFFICIENT_FUNDS when the coins do not cover the outputs and the fee
 *   (the message and `missing` say how many sats are short).
 */
export function buildPsbt (req: BuildPsbtRequest): BuiltPsbt {
  if (typeof req !== 'object' || req === null || !(req.account instanceof Bip84Account)) {
    throw GrowrError.BAD_ARGUMENT('buildPsbt takes { account: Bip84Account, utxos, outputs, feeRate, changeAddress }')
  }
  const { account } = req
  const net = account.network
  const change = req.changeAddress
  if (typeof change !== 'object' || change === null || change.chain !== 'change' || addressFor(account, change.index, 'change').address !== change.address) {
    throw GrowrError.BAD_ARGUMENT("the change address must be one of this account's change (internal, chain 1) addresses")
  }
  if (!Array.isArray(req.utxos)) throw GrowrError.BAD_ARGUMENT('utxos must be an array')
  const coins: SelectedUtxo[] = req.utxos.map((u, i) => {
    if (typeof u !== 'object' || u === null) throw GrowrError.BAD_ARGUMENT(`utxo ${i} must be an object`)
    return selectedUtxo(account, u)
  })
  if (coins.some((c) => c.chain === 'change' && c.index === change.index)) {
    throw GrowrError.BAD_ARGUMENT(`change address ${change.address} already holds a coin being spent: change goes to a fresh address`)
  }
  if (!Array.isArray(req.outputs)) throw GrowrError.BAD_ARGUMENT('outputs must be an array')
  const outputs = req.outputs.map((o, i) => {
    if (typeof o !== 'object' || o === null) throw GrowrError.BAD_ARGUMENT(`output ${i} must be { address, amount }`)
    return { script: outputScript(o.address, net), amount: o.amount }
  })
  const selection = selectCoins({ utxos: coins, outputs, feeRate: req.feeRate, minFeeRate: req.minFeeRate, changeScript: change.script })

  return { ...psbtFromSelection(account, selection, change), selection }
}

/**
 * Decode a PSBT (BIP-174 v0) from base64 or bytes.
 *
 * @param psbt base64 text or raw bytes.
 * @returns the @scure/btc-signer Transaction.
 * @throws GrowrError BAD_ARGUMENT with the parser's reason when it is not a valid PSBT.
 */
export function parsePsbt (psbt: string | Uint8Array): Transaction {
  let bytes: Uint8Array
  try {
    bytes = typeof psbt === 'string' ? base64.decode(psbt) : psbt
  } catch {
    throw GrowrError.BAD_ARGUMENT('PSBT is not valid base64')
  }
  if (!(bytes instanceof Uint8Array)) throw GrowrError.BAD_ARGUMENT('PSBT must be base64 text or bytes')
  try {
    return Transaction.fromPSBT(bytes)
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`not a valid PSBT (BIP-174): ${(err as Error).message}`)
  }
}

/**
 * The signer's check: does this PSBT spend exactly the wallet's selected coins, at the wallet's
 * own amounts and scripts, signal RBF on every input, and pay exactly the expected outputs?
 * Pure; never throws.
 *
 * @param tx a parsed PSBT ({@link parsePsbt}).
 * @param expected the coins selected (with their scripts) and, optionally, the outputs in order.
 * @returns `{ ok: true, fee }` (fee in sats from the wallet's amounts), or `{ ok: false, reason }`
 *   naming the first difference in plain words.
 */
export function checkPsbt (tx: Transaction, expected: PsbtExpectation): PsbtCheck {
  try {
    const byOutpoint = new Map(expected.inputs.map((u) => [`${u.txid}:${u.vout}`, u]))
    if (tx.inputsLength !== expected.inputs.length) {
      return { ok: false, reason: `the PSBT has ${tx.inputsLength} inputs, but ${expected.inputs.length} coins were selected` }
    }
    let spent = 0n
    const used = new Set<string>()
    for (let i = 0; i < tx.inputsLength; i++) {
      const input = tx.getInput(i)
      if (input.txid === undefined || input.index === undefined) return { ok: false, reason: `input ${i} names no outpoint` }
      const key = `${hex.encode(input.txid)}:${input.index}`
      const coin = byOutpoint.get(key)
      if (coin === undefined) return { ok: false, reason: `input ${i} spends ${key}, which is not a coin this wallet selected` }
      if (used.has(key)) return { ok: false, reason: `input ${i} spends ${key} a second time` }
      used.add(key)
      const w = input.witnessUtxo
      if (w === undefined) return { ok: false, reason: `input ${i} (${key}) carries no witnessUtxo: the amount it spends cannot be checked` }
      if (w.amount !== coin.amount) {
        return { ok: false, reason: `input ${i} (${key}) claims to spend ${w.amount} sats, but the wallet's coin holds ${coin.amount} sats: a wrong input amount hides the real fee` }
      }
      if (!equalBytes(w.script, coin.script)) return { ok: false, reason: `input ${i} (${key}) names a script that is not the wallet's script at ${coin.path}` }
      if (input.sequence !== RBF_SEQUENCE) {
        return { ok: false, reason: `input ${i} (${key}) has nSequence 0x${(input.sequence ?? 0xffffffff).toString(16)}, not 0xfffffffd: replace-by-fee (BIP-125) is not signalled` }
      }
      spent += coin.amount
    }
    let paid = 0n
    for (let i = 0; i < tx.outputsLength; i++) paid += tx.getOutput(i).amount ?? 0n
    if (expected.outputs !== undefined) {
      if (tx.outputsLength !== expected.outputs.length) {
        return { ok: false, reason: `the PSBT has ${tx.outputsLength} outputs, but ${expected.outputs.length} were built` }
      }
      for (let i = 0; i < tx.outputsLength; i++) {
        const o = tx.getOutput(i)
        const want = expected.outputs[i]
        if (o.script === undefined || !equalBytes(o.script, want.script)) return { ok: false, reason: `output ${i} pays another script than the one built` }
        if (o.amount !== want.amount) return { ok: false, reason: `output ${i} pays ${String(o.amount)} sats, but ${want.amount} sats were built` }
      }
    }
    if (paid > spent) return { ok: false, reason: `the outputs pay ${paid} sats, more than the ${spent} sats the coins hold` }
    return { ok: true, fee: spent - paid }
  } catch (err) {
    return { ok: false, reason: `the PSBT cannot be read: ${(err as Error).message}` }
  }
}

/**
 * Check, sign and finalize a PSBT the wallet built, and extract the raw transaction.
 *
 * Each input is signed with the private key derived from `seed` at the selected coin's own
 * chain/index (never at a path the PSBT names), with SIGHASH_ALL (BIP-143); the key is zeroed as
 * soon as that input is signed, signed or not.
 *
 * @param psbt the PSBT, base64 or bytes (from {@link buildPsbt}, possibly via another device).
 * @param opts.seed the BIP-39 seed of `opts.account` (the caller keeps and wipes it).
 * @param opts.account the paying account (its network and account number).
 * @param opts.selection what {@link buildPsbt} returned as `selection`: the coins, outputs and change.
 * @returns the raw transaction hex, its txid, the finalized PSBT (base64), the fee (sats) and
 *   the actual vsize (vbytes).
 * @throws GrowrError BAD_ARGUMENT when the PSBT does not parse, fails {@link checkPsbt} (its reason
 *   in the message), or when the seed does not hold the key of an input.
 */
export function signPsbt (psbt: string | Uint8Array, opts: { seed: Uint8Array, account: Bip84Account, selection: CoinSelection<SelectedUtxo> }): SignedTransaction {
  if (typeof opts !== 'object' || opts === null || !(opts.account instanceof Bip84Account) || typeof opts.selection !== 'object' || opts.selection === null) {
    throw GrowrError.BAD_ARGUMENT('signPsbt takes (psbt, { seed, account, selection })')
  }
  const tx = parsePsbt(psbt)
  const { selection, account } = opts
  const outputs = selection.change === null ? selection.outputs : [...selection.outputs, selection.change]
  const verdict = checkPsbt(tx, { inputs: selection.inputs, outputs })
  if (!verdict.ok) throw GrowrError.BAD_ARGUMENT(`refusing to sign: ${verdict.reason}`)

  const byOutpoint = new Map(selection.inputs.map((u) => [`${u.txid}:${u.vout}`, u]))
  for (let i = 0; i < tx.inputsLength; i++) {
    const input = tx.getInput(i)
    const coin = byOutpoint.get(`${hex.encode(input.txid as Uint8Array)}:${String(input.index)}`) as SelectedUtxo
    const { privateKey } = derivePrivateKey(opts.seed, account.network, coin.chain, coin.index, account.account)
    let signed = false
    try {
      signed = tx.signIdx(privateKey, i, [SigHash.ALL])
    } catch (err) {
      throw GrowrError.BAD_ARGUMENT(`cannot sign input ${i}: ${(err as Error).message}`)
    } finally {
      privateKey.fill(0)
    }
    if (!signed) throw GrowrError.BAD_ARGUMENT(`the seed does not hold the key of input ${i} (${coin.path})`)
  }
  tx.finalize()
  return { hex: hex.encode(tx.extract()), txid: tx.id, psbt: base64.encode(tx.toPSBT(0)), fee: verdict.fee, vsize: tx.vsize }
}

/**
 * A wallet coin with what signing needs: its script, public key and derivation path.
 * @param account the account holding it
 * @param u the coin and where it sits in the account (chain, index)
 * @returns the coin as coin selection and the signer take it
 */
export function selectedUtxo (account: Bip84Account, u: { txid: string, vout: number, amount: bigint, chain: Bip84Chain, index: number }): SelectedUtxo {
  const a = addressFor(account, u.index, u.chain)
  return { txid: u.txid, vout: u.vout, amount: u.amount, chain: u.chain, index: u.index, script: a.script, publicKey: a.publicKey, path: a.path }
}

/**
 * The unsigned PSBT (BIP-174 v0, base64) of a coin selection: version 2, RBF on every input,
 * key origins on inputs and change when the account knows its master fingerprint.
 * @param account the paying account
 * @param selection inputs, outputs and change
 * @param change the change address (its key origin goes into the PSBT)
 * @returns the PSBT and the txid it will have
 */
export function psbtFromSelection (account: Bip84Account, selection: CoinSelection<SelectedUtxo>, change: Bip84Address): { psbt: string, txid: string } {
  const fingerprint = account.masterFingerprint
  const tx = new Transaction({ version: 2, lockTime: 0 })
  for (const c of selection.inputs) {
    tx.addInput({
      txid: c.txid,
      index: c.vout,
      sequence: RBF_SEQUENCE,
      witnessUtxo: { script: c.script, amount: c.amount },
      ...(fingerprint === null ? {} : { bip32Derivation: [[c.publicKey, { fingerprint, path: bip32Path(c.path) }]] })
    })
  }
  for (const o of selection.outputs) tx.addOutput({ script: o.script, amount: o.amount })
  if (selection.change !== null) {
    tx.addOutput({
      script: selection.change.script,
      amount: selection.change.amount,
      ...(fingerprint === null ? {} : { bip32Derivation: [[change.publicKey, { fingerprint, path: bip32Path(change.path) }]] })
    })
  }
  return { psbt: base64.encode(tx.toPSBT(0)), txid: tx.id }
}
