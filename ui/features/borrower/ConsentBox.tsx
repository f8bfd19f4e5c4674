/**
 * The apply form's credit-exposure consent: a checkbox naming the book's originator (the DID the
 * consent will name, as the replicated book says, never an ad's claim), how long it lasts, and
 * after applying whether the consent reached that organization.
 */
import { send, type Result } from '../../lib/contract-client.ts'
import { useQuery } from '../../lib/hooks.ts'
import { Alert, Badge, Mono, Select } from '../../components/index.ts'
import { askerWords, consentLabel, CONSENT_DAYS, type AskerWords } from './consent.ts'

export type GrantOutcome = Result<'consent.grant'>

/** The book's originator, by its DID, with what the network's directory says of it. */
export interface Asker { did: string; words: AskerWords }

/**
 * The organization a consent given from this book's apply form names: the originator the
 * replicated book records (`book.show`), named as its ad says when this node has one.
 * @returns undefined until the book's metadata has replicated
 */
export function useAsker (book: string): Asker | undefined {
  const q = useQuery(async () => {
    const shown = await send('book.show', { book })
    if (!shown.originator) return undefined
    // the directory is optional: an offline node or a young one knows no ads, and the DID is enough
    const listings = await send('market.query', {}).catch(() => [])
    return { did: shown.originator, words: askerWords(shown.originator, listings.find((l) => l.did === shown.originator)) }
  }, [book], ['book.changed', 'market.changed'])
  return q.data
}

/** The checkbox and its duration. */
export function ConsentBox ({ asker, checked, onChecked, days, onDays }: { asker: Asker | undefined; checked: boolean; onChecked: (v: boolean) => void; days: number; onDays: (d: number) => void }) {
  const who = asker?.words.name ?? 'the originator'
  return (
    <div className='field field-wide' data-testid='apply-consent-box'>
      <label className='check'>
        <input type='checkbox' checked={checked} disabled={!asker} onChange={(e) => onChecked(e.target.checked)} data-testid='apply-consent' />
        <span data-testid='apply-consent-label'>{consentLabel(who, days)}</span>
        {asker && <Badge tone={asker.words.certified ? 'good' : 'warn'} testid='apply-consent-cert'>{asker.words.certified ? 'certified' : 'uncertified'}</Badge>}
      </label>
      <div className='field-hint'>
        {asker
          ? <>You sign a consent naming <Mono value={asker.did} keep={8} testid='apply-consent-did' />{asker.words.selfDeclared ? ' (the name is its own claim: no certificate backs it)' : ''}. Certified originators then tell it only what you owe them; each logs the question. Revoke it any time under My consents.</>
          : 'The book has not told this node who originates it yet.'}
      </div>
      {checked && (
        <Select aria-label='How long the consent lasts' value={String(days)} onChange={(e) => onDays(Number(e.target.value))} testid='apply-consent-days' style={{ maxWidth: 140 }}>
          {CONSENT_DAYS.map((d) => <option key={d} value={d}>{d} days</option>)}
        </Select>
      )}
    </div>
  )
}

/** Whether the consent given on applying reached the organization it names. */
export function ConsentOutcome ({ outcome, who }: { outcome: GrantOutcome | null; who: string }) {
  if (!outcome) return null
  const until = outcome.consent.validUntil.slice(0, 10)
  return outcome.delivered
    ? <Alert tone='good' testid='apply-consent-result'><span data-delivered='true'>Consent delivered to {who}, in force until {until}. You can revoke it under My consents.</span></Alert>
    : <Alert tone='warn' testid='apply-consent-result'><span data-delivered='false'>Consent signed but not delivered to {who}: {outcome.deliveryError ?? 'no reason given'}. It cannot check your exposure with it until it has it; revoke it under My consents if you no longer want it.</span></Alert>
}
