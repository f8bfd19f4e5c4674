/**
 * Trustlines (issue 13): credit between two people, its state signed by both. Partners (DID, and
 * the legacy name when the line was imported), limits both ways, the balance with who owes whom
 * in words, the full signed history, changes to propose (pay, ask to be paid, the credit you
 * extend, the credit you ask for, close), incoming proposals to countersign or reject, imported
 * lines waiting for confirmation, and a payment through the network.
 *
 * Everything shown comes from the signed state the core holds (`trustline.list`); amounts are
 * decimal strings of minor units formatted with bigint arithmetic. The core pushes no trustline
 * event yet (app/session.ts), so the screen re-reads when peers connect or leave, after each of
 * its own actions, and on "Refresh" (a click, never a timer).
 */
import { useState } from 'react'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { parseMajor } from '../../lib/money.ts'
import { Alert, Badge, Button, Card, Field, Input, Mono, ReasonButton, Select, Spinner, Table, useToast } from '../../components/index.ts'
import type { ImportStatus, TrustlineChange, TrustlineView } from '../../../app/credit/handlers.ts'
import { balanceWords, changeWords, limits, money } from './words.ts'

type Entry = NonNullable<TrustlineView['history']>[number]

export function TrustlinesScreen () {
  const [tick, setTick] = useState(0)
  const refresh = (): void => { setTick((n) => n + 1) }
  const lines = useQuery(() => send('trustline.list', { history: true }), [tick], ['peers', 'trustline.changed'])
  const imports = useQuery(() => send('trustline.imports', {}), [tick], ['peers', 'trustline.changed'])
  // names the legacy service knew, for partners of imported lines
  const names = new Map<string, string>()
  for (const i of imports.data ?? []) {
    for (const u of [i.userA, i.userB]) if (u.did) names.set(u.did, u.displayName ?? u.userName)
  }
  return (
    <div className='stack' data-testid='screen-trustlines'>
      <div className='page-head'>
        <h1>Trustlines</h1>
        <p className='muted'>Credit between two people. Every change takes effect only when both of you have signed the same resulting state; lowering the credit you extend needs nobody.</p>
        <Button small variant='ghost' testid='tl-refresh' onClick={refresh}>Refresh</Button>
      </div>
      <OpenLine onDone={refresh} />
      <Imported data={imports.data} error={imports.error} onDone={refresh} />
      <Alert error={lines.error} testid='tl-error' />
      {lines.data === undefined
        ? <Spinner label='reading your trustlines' />
        : lines.data.length === 0
          ? <p className='muted' data-testid='tl-none'>No trustlines yet.</p>
          : lines.data.map((v) => <Line key={v.id} v={v} name={names.get(v.partner) ?? null} onDone={refresh} />)}
      <PayThroughNetwork />
    </div>
  )
}

function OpenLine ({ onDone }: { onDone: () => void }) {
  const toast = useToast()
  const [partner, setPartner] = useState('')
  const [asset, setAsset] = useState('CAD')
  const [limit, setLimit] = useState('')
  const parsed = limit.trim() ? parseMajor(limit, asset) : null
  const open = useAction(async () => {
    const l = limit.trim() ? parseMajor(limit, asset) : { ok: true as const, value: 0 }
    if (!l.ok) throw new Error(l.error)
    const r = await send('trustline.open', { with: partner.trim(), asset: asset.trim().toUpperCase(), limit: String(l.value) })
    toast(r.proposal ? 'Trustline opened; your offer of credit waits for your partner' : 'Trustline opened')
    setPartner('')
    setLimit('')
    onDone()
    return r
  })
  return (
    <Card title='Open a trustline' subtitle='with someone you know, by their DID' testid='tl-open'>
      <form className='stack' style={{ gap: 6 }} onSubmit={(e) => { e.preventDefault(); open.run() }}>
        <Field label='Partner DID'>{(id) => <Input id={id} value={partner} onChange={(e) => setPartner(e.target.value)} placeholder='did:key:z6Mk…' spellCheck={false} autoComplete='off' testid='tl-open-partner' />}</Field>
        <div className='row'>
          <Field label='Asset'>{(id) => <Input id={id} value={asset} onChange={(e) => setAsset(e.target.value)} style={{ width: 90 }} testid='tl-open-asset' />}</Field>
          <Field label='Credit you extend' error={parsed && !parsed.ok ? parsed.error : null}>{(id) => <Input id={id} value={limit} onChange={(e) => setLimit(e.target.value)} inputMode='decimal' style={{ width: 140 }} testid='tl-open-limit' />}</Field>
        </div>
        <div className='row'><Button type='submit' variant='primary' busy={open.running} disabled={!partner.trim() || (parsed !== null && !parsed.ok)} testid='tl-open-submit'>Open</Button></div>
        <Alert error={open.error} testid='tl-open-error' />
      </form>
    </Card>
  )
}

function Imported ({ data, error, onDone }: { data: ImportStatus[] | undefined; error: Parameters<typeof Alert>[0]['error']; onDone: () => void }) {
  const confirm = useAction(async (legacyId: string) => {
    const r = await send('trustline.confirmImport', { legacyId })
    onDone()
    return r
  })
  if (!data || data.length === 0) return error ? <Alert error={error} testid='tl-imports-error' /> : null
  const words: Record<ImportStatus['status'], string> = {
    unclaimed: 'not claimed', 'awaiting-partner': 'waiting for your partner to claim their account', 'imported-unconfirmed': 'imported, unconfirmed', confirmed: 'confirmed'
  }
  return (
    <Card title='Imported from GrowOperative' subtitle='Each of you binds your DID to your old account, then both sign the opening state' testid='tl-imports'>
      <Table<ImportStatus>
        rows={data}
        rowKey={(i) => i.legacyId}
        rowTestid={(i) => 'tl-import-' + i.legacyId}
        columns={[
          { header: 'Legacy line', cell: (i) => `#${i.legacyId}` },
          { header: 'Accounts', cell: (i) => `${i.userA.displayName ?? i.userA.userName} / ${i.userB.displayName ?? i.userB.userName}` },
          { header: 'Balance (service)', align: 'right', cell: (i) => i.balance.startsWith('-') ? `${i.userB.userName} owed ${money(i.balance.slice(1), i.asset)}` : i.balance === '0' ? 'settled' : `${i.userA.userName} owed ${money(i.balance, i.asset)}` },
          { header: 'History', align: 'right', cell: (i) => `${i.historyRows} rows${i.reconciled ? '' : ' (discrepancies)'}` },
          { header: 'Status', cell: (i) => <Badge tone={i.status === 'confirmed' ? 'good' : 'warn'} testid='tl-import-status'>{words[i.status]}</Badge> },
          { header: '', cell: (i) => i.status === 'imported-unconfirmed' ? <Button small variant='primary' busy={confirm.running} testid='tl-import-confirm' onClick={() => { confirm.run(i.legacyId) }}>Confirm</Button> : null }
        ]}
      />
      <Alert error={confirm.error} testid='tl-import-confirm-error' />
    </Card>
  )
}

function Line ({ v, name, onDone }: { v: TrustlineView; name: string | null; onDone: () => void }) {
  const partner = name ?? 'your partner'
  const asset = v.terms.asset
  const { iMayOwe, iExtend } = limits(v)
  const status = String(v.state.status)
  const incoming = v.proposals.filter((p) => p.dir === 'in' && p.status === 'pending' && !p.expired)
  const outgoing = v.proposals.filter((p) => p.dir === 'out' && (p.status === 'pending' || p.status === 'rejected'))
  const act = useAction(async (kind: 'accept' | 'reject', proposal: string, reason?: string) => {
    const r = kind === 'accept' ? await send('trustline.accept', { id: v.id, proposal }) : await send('trustline.reject', { id: v.id, proposal, reason })
    onDone()
    return r
  })
  return (
    <Card
      title={<span>{name ? `${name} ` : ''}<Mono value={v.partner} keep={14} testid='tl-partner' /></span>}
      subtitle={`${asset} · trustline ${v.id.slice(0, 12)}… · ${String(v.state.seq)} signed update${v.state.seq === 1 ? '' : 's'}`}
      actions={<Badge tone={status === 'open' ? 'good' : status === 'closed' ? 'plain' : 'warn'} testid='tl-status'>{status === 'unconfirmed' ? 'imported, unconfirmed' : status}</Badge>}
      testid={'tl-line-' + v.id}
    >
      <dl className='kv'>
        <dt>Balance</dt>
        <dd data-testid='tl-balance' data-value={v.myBalance}><strong>{balanceWords(v, partner)}</strong></dd>
        <dt>You may owe</dt>
        <dd data-testid='tl-i-may-owe' data-value={iMayOwe}>up to {money(iMayOwe, asset)} (credit {partner} extends to you); you can still pay {money(v.myAvailable, asset)}</dd>
        <dt>You extend</dt>
        <dd data-testid='tl-i-extend' data-value={iExtend}>up to {money(iExtend, asset)} to {partner}; they can still pay {money(v.partnerAvailable, asset)}</dd>
        <dt>State</dt>
        <dd><Mono value={v.head} keep={12} testid='tl-head' /></dd>
      </dl>
      {incoming.length > 0 && (
        <div className='stack' style={{ gap: 6 }} data-testid='tl-incoming'>
          <strong className='small'>Waiting for your signature</strong>
          {incoming.map((p) => (
            <div className='row' key={p.hash} data-testid={'tl-in-' + p.hash}>
              <span className='small' data-testid='tl-in-words'>{changeWords(p.change, v.me, false, asset, partner)}</span>
              <span className='muted small'>until {new Date(p.expires).toLocaleString()}</span>
              <Button small variant='primary' busy={act.running} testid='tl-accept' onClick={() => { act.run('accept', p.hash) }}>{p.change.type === 'confirm' ? 'Confirm' : 'Accept'}</Button>
              <ReasonButton label='Reject' placeholder='why (optional)' busy={act.running} testid='tl-reject' onSubmit={(reason) => { act.run('reject', p.hash, reason) }} />
            </div>
          ))}
        </div>
      )}
      <Alert error={act.error} testid='tl-act-error' />
      {outgoing.length > 0 && (
        <ul className='small' data-testid='tl-outgoing'>
          {outgoing.map((p) => <li key={p.hash} data-testid={'tl-out-' + p.hash} data-status={p.status}>{changeWords(p.change, v.me, true, asset, partner)}: {p.status === 'rejected' ? `rejected${p.rejection?.reason ? ` (“${p.rejection.reason}”)` : ''}` : p.expired ? 'expired, void' : `waiting for ${partner}`}</li>)}
        </ul>
      )}
      {status !== 'closed' && <Propose v={v} partner={partner} onDone={onDone} />}
      <History v={v} partner={partner} />
    </Card>
  )
}

type Kind = 'pay' | 'request' | 'extend' | 'ask' | 'close' | 'confirm'

function Propose ({ v, partner, onDone }: { v: TrustlineView; partner: string; onDone: () => void }) {
  const toast = useToast()
  const unconfirmed = v.state.status === 'unconfirmed'
  const [kind, setKind] = useState<Kind>(unconfirmed ? 'confirm' : 'pay')
  const [amount, setAmount] = useState('')
  const [memo, setMemo] = useState('')
  const asset = v.terms.asset
  const needsAmount = kind !== 'close' && kind !== 'confirm'
  const parsed = needsAmount && amount.trim() ? parseMajor(amount, asset) : null
  const propose = useAction(async () => {
    let change: TrustlineChange
    const them = v.me === 'A' ? 'B' : 'A'
    if (needsAmount) {
      const p = parseMajor(amount, asset)
      if (!p.ok) throw new Error(p.error)
      const a = String(p.value)
      if (kind === 'pay') change = { type: 'payment', from: v.me, amount: a, ...(memo.trim() ? { memo: memo.trim() } : {}) }
      else if (kind === 'request') change = { type: 'payment', from: them, amount: a, ...(memo.trim() ? { memo: memo.trim() } : {}) }
      else if (kind === 'extend') change = { type: 'limit', side: v.me === 'A' ? 'BtoA' : 'AtoB', amount: a }
      else change = { type: 'limit', side: v.me === 'A' ? 'AtoB' : 'BtoA', amount: a }
    } else {
      change = kind === 'close' ? { type: 'close' } : { type: 'confirm' }
    }
    const r = await send('trustline.propose', { id: v.id, change })
    toast(r.status === 'applied' ? 'Applied: it needed nobody\'s signature' : r.sent ? `Sent to ${partner} to countersign` : `${partner} is offline: sent when they are back`)
    setAmount('')
    setMemo('')
    onDone()
    return r
  })
  return (
    <form className='stack' style={{ gap: 6, marginTop: 12 }} data-testid='tl-propose' onSubmit={(e) => { e.preventDefault(); propose.run() }}>
      <strong className='small'>Propose a change</strong>
      <div className='row'>
        <Select aria-label='Change' value={kind} onChange={(e) => setKind(e.target.value as Kind)} testid='tl-propose-kind'>
          {unconfirmed
            ? <option value='confirm'>Confirm the imported opening state</option>
            : (
              <>
                <option value='pay'>Pay {partner}</option>
                <option value='request'>Ask {partner} to pay you</option>
                <option value='extend'>Set the credit you extend (lowering applies at once)</option>
                <option value='ask'>Ask for a different credit limit from {partner}</option>
                <option value='close'>Close (zero balance only)</option>
              </>)}
        </Select>
        {needsAmount && <Input aria-label={`Amount in ${asset}`} value={amount} onChange={(e) => setAmount(e.target.value)} inputMode='decimal' placeholder={`amount, ${asset}`} style={{ width: 140 }} testid='tl-propose-amount' />}
        {(kind === 'pay' || kind === 'request') && <Input aria-label='Memo' value={memo} onChange={(e) => setMemo(e.target.value)} placeholder='memo (optional)' maxLength={200} testid='tl-propose-memo' />}
        <Button type='submit' variant='primary' busy={propose.running} disabled={needsAmount && !parsed?.ok} testid='tl-propose-submit'>Propose</Button>
      </div>
      {parsed && !parsed.ok && <Alert testid='tl-propose-amount-error'>{parsed.error}</Alert>}
      <Alert error={propose.error} testid='tl-propose-error' />
    </form>
  )
}

function History ({ v, partner }: { v: TrustlineView; partner: string }) {
  const rows = [...(v.history ?? [])].reverse()
  return (
    <div className='stack' style={{ gap: 6, marginTop: 12 }}>
      <strong className='small'>History (signed updates, newest first)</strong>
      <Table<Entry>
        testid='tl-history'
        rows={rows}
        rowKey={(e) => String(e.proposal.seq)}
        rowTestid={(e) => 'tl-h-' + String(e.proposal.seq)}
        empty='No updates yet.'
        columns={[
          { header: '#', cell: (e) => String(e.proposal.seq) },
          { header: 'When', cell: (e) => new Date(e.accept ? e.accept.acceptance.at : e.proposal.at).toLocaleString() },
          { header: 'Change', cell: (e) => <span data-testid='tl-h-words'>{changeWords(e.proposal.change, v.me, e.proposal.proposer === v.me, v.terms.asset, partner)}</span> },
          { header: 'Signed by', cell: (e) => e.accept ? 'both' : e.proposal.proposer === v.me ? 'you alone (a cut of the credit you extend)' : `${partner} alone (a cut of the credit they extend)` },
          { header: 'State', cell: (e) => <Mono value={e.proposal.state} keep={8} testid='tl-h-state' /> }
        ]}
      />
    </div>
  )
}

/**
 * A payment through the network (core/credit/payment.ts, multi-hop over relays' routes). The
 * contract call is built by the multi-hop payments work at the same time as this screen: the
 * form sends `credit.pay` and shows the core's answer, including "unknown method" until it exists.
 */
function PayThroughNetwork () {
  const toast = useToast()
  const [payee, setPayee] = useState('')
  const [asset, setAsset] = useState('CAD')
  const [amount, setAmount] = useState('')
  const parsed = amount.trim() ? parseMajor(amount, asset) : null
  const pay = useAction(async () => {
    const p = parseMajor(amount, asset)
    if (!p.ok) throw new Error(p.error)
    // `credit.pay` is not in the typed contract yet (see the comment above): sent by name
    const loose = send as unknown as (method: string, args: unknown) => Promise<unknown>
    const r = await loose('credit.pay', { to: payee.trim(), asset: asset.trim().toUpperCase(), amount: String(p.value) })
    toast('Paid through the network')
    return r
  })
  return (
    <Card title='Pay someone through the network' subtitle='A relay finds a route of trustlines; every hop signs before anything moves' testid='tl-pay'>
      <form className='row' onSubmit={(e) => { e.preventDefault(); pay.run() }}>
        <Input aria-label='Payee DID' value={payee} onChange={(e) => setPayee(e.target.value)} placeholder='did:key:z6Mk…' spellCheck={false} testid='tl-pay-to' />
        <Input aria-label='Asset' value={asset} onChange={(e) => setAsset(e.target.value)} style={{ width: 80 }} testid='tl-pay-asset' />
        <Input aria-label='Amount' value={amount} onChange={(e) => setAmount(e.target.value)} inputMode='decimal' style={{ width: 120 }} testid='tl-pay-amount' />
        <Button type='submit' variant='primary' busy={pay.running} disabled={!payee.trim() || !parsed?.ok} testid='tl-pay-submit'>Pay</Button>
      </form>
      <Alert error={pay.error} testid='tl-pay-error' />
    </Card>
  )
}
