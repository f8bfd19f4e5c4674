/**
 * Trustline figures in words, from the signed state only (pure; tested with the screen).
 * Amounts stay decimal strings of minor units end to end: they are formatted with bigint
 * arithmetic (lib/money.ts formatMinorText), never through a float.
 */
import { formatMinorText } from '../../lib/money.ts'
import type { TrustlineChange, TrustlineView } from '../../../app/credit/handlers.ts'

/** "12.50 CAD" for a non-negative minor-unit string; the raw text when it is not one. */
export function money (minor: string, asset: string): string {
  return formatMinorText(minor, asset) ?? `${minor} (minor units of ${asset})`
}

/** Who owes whom, from this party's side: `myBalance` positive means I owe the partner. */
export function balanceWords (v: Pick<TrustlineView, 'myBalance' | 'terms'>, partner: string): string {
  const b = BigInt(v.myBalance)
  if (b === 0n) return 'Settled: nobody owes anything'
  const words = b > 0n ? `You owe ${partner} ${money(b.toString(), v.terms.asset)}` : `${partner} owes you ${money((-b).toString(), v.terms.asset)}`
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** The most this party may owe, and the credit it extends, from the state. */
export function limits (v: Pick<TrustlineView, 'me' | 'state'>): { iMayOwe: string; iExtend: string } {
  const s = v.state as Record<string, string>
  return v.me === 'A' ? { iMayOwe: s.limitAtoB, iExtend: s.limitBtoA } : { iMayOwe: s.limitBtoA, iExtend: s.limitAtoB }
}

/**
 * A change in words, from this party's side.
 * @param byMe whether this party proposed it
 */
export function changeWords (c: TrustlineChange, me: 'A' | 'B', byMe: boolean, asset: string, partner: string): string {
  const who = (side: string): string => side === me ? 'you' : partner
  switch (c.type) {
    case 'payment': {
      const payer = who(c.from)
      const payee = c.from === me ? partner : 'you'
      return `${payer === 'you' ? 'You pay' : `${payer} pays`} ${payee} ${money(c.amount, asset)}${c.memo ? ` (“${c.memo}”)` : ''}`
    }
    case 'limit': {
      const debtorSide = c.side === 'AtoB' ? 'A' : 'B'
      return debtorSide === me
        ? `the credit ${partner} extends to you becomes ${money(c.amount, asset)}`
        : `the credit you extend to ${partner} becomes ${money(c.amount, asset)}`
    }
    case 'close': return 'close the trustline'
    case 'confirm': return byMe ? 'you confirm the imported opening state' : `${partner} confirms the imported opening state: countersign to confirm it too`
    case 'htlc/add': return `${who(c.from) === 'you' ? 'you reserve' : `${partner} reserves`} ${money(c.amount, asset)} for a payment through the network`
    case 'htlc/settle': return `a payment through the network completes (${c.id})`
    case 'htlc/fail': return `a payment through the network is released (${c.id})`
    default: return 'an unknown change'
  }
}
