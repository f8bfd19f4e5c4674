/**
 * Publishing: what this node's organization publishes on Nostr and where. Its npub; the profile
 * (kind 0) form; the relays it publishes to and reads from (each with its state); "Publish now";
 * and every event in the outbox (profile, relay list, each project's NIP-99 listing, deletions,
 * milestone notes) with its kind, its naddr or nevent, and its delivery on each relay.
 *
 * One profile and one relay list serve every book this identity originates, so this is a screen of
 * its own rather than a card under the Originator screen's book picker. Re-reads on `nostr.changed`
 * (relay state, deliveries) and `book.changed` (a project activated: a new listing).
 */
import { useEffect, useMemo, useState } from 'react'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { useNode } from '../../app/node-context.tsx'
import { Alert, Badge, Button, Card, CopyButton, Field, Input, Mono, Table, TextArea } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import type { NostrStatus } from '../../../app/nostr/handlers.ts'
import { eventRows, relayUrlProblem, relayWords, type DeliveryWords, type EventRow } from './publishing.ts'

const DELIVERY_TONES: Record<DeliveryWords['state'], 'good' | 'warn' | 'bad'> = { sent: 'good', pending: 'warn', failed: 'bad', refused: 'bad' }

export function PublishingScreen () {
  const node = useNode()
  const status = useQuery(() => send('nostr.status', {}), [], ['nostr.changed', 'book.changed', 'identity'])
  const originated = (node.data?.books ?? []).filter((b) => b.role === 'originator')
  const booksKey = originated.map((b) => b.topic).join(',')
  // listings and notes name a project by id: its name comes from the book
  const names = useQuery(async () => {
    const out = new Map<string, string>()
    await Promise.all(originated.map(async (b) => {
      const projects = await send('project.list', { book: b.topic }).catch(() => [])
      for (const p of projects) out.set(p.projectId, p.terms.name)
    }))
    return out
  }, [booksKey], ['book.changed'])
  const s = status.data
  return (
    <div className='stack' data-testid='screen-publishing'>
      <div className='page-head'>
        <h1>Publishing on Nostr</h1>
      </div>
      <Alert error={status.error} testid='nostr-status-error' />
      {s?.relays.some((r) => /no WebSocket client/i.test(r.lastError ?? '')) && (
        <Alert tone='warn' testid='nostr-no-websocket'>
          This node's core has no WebSocket client to reach relays (it runs under Bare). Run it under Node (<code>growr start</code>, or <code>npm start -- --runtime node</code>) to publish.
        </Alert>
      )}
      {s && <Identity status={s} />}
      {s && <ProfileCard status={s} onSaved={() => status.reload()} />}
      {s && <RelaysCard status={s} onChanged={() => status.reload()} />}
      {s && <EventsCard status={s} names={names.data ?? new Map()} onPublished={() => status.reload()} />}
    </div>
  )
}

function Identity ({ status }: { status: NostrStatus }) {
  return (
    <Card title='Your organization on Nostr' testid='nostr-identity'>
      <div className='row' style={{ alignItems: 'center', gap: 8, flexWrap: 'wrap' }}>
        {/* shown whole: people paste it into Nostr clients, and a shortened one invites a look-alike */}
        <code className='mono' style={{ fontSize: 15, fontWeight: 600 }} title={status.npub} data-value={status.npub} data-testid='nostr-npub'>{status.npub}</code>
        <CopyButton text={status.npub} label='Copy npub' testid='nostr-npub-copy' />
      </div>
      <p className='small muted'>
        Derived from this node's wallet seed (NIP-06); the secret key never leaves the node. Before the first listing in a book, the book records that this key speaks for it, so readers can tell your listings from anyone else's.
      </p>
      <Alert tone='info' testid='nostr-privacy'>
        What is published: your organization's profile, the relays you use, one listing per public active project (its name, terms and loan range), and notes when a project is half or fully funded, first disburses or is fully repaid. No borrower data is ever published: nothing of a loan (who borrows, how much, why) is read to make these events.
      </Alert>
      {status.lastError && <Alert tone='warn' testid='nostr-last-error'>The last attempt to list a book's projects failed: {status.lastError}</Alert>}
    </Card>
  )
}

function ProfileCard ({ status, onSaved }: { status: NostrStatus; onSaved: () => void }) {
  const toast = useToast()
  const p = status.profile
  const [form, setForm] = useState({ name: p?.name ?? '', about: p?.about ?? '', website: p?.website ?? '', picture: p?.picture ?? '', location: status.location ?? '' })
  // the saved profile arrives after the first render (and after another device's change)
  const savedKey = JSON.stringify([p, status.location])
  useEffect(() => { setForm({ name: p?.name ?? '', about: p?.about ?? '', website: p?.website ?? '', picture: p?.picture ?? '', location: status.location ?? '' }) }, [savedKey])
  const set = (k: keyof typeof form, v: string) => setForm((f) => ({ ...f, [k]: v }))
  const save = useAction(async () => {
    const r = await send('nostr.profile', { name: form.name, about: form.about, website: form.website, picture: form.picture, location: form.location })
    toast('Profile saved: a new kind 0 event is on its way to your relays')
    onSaved()
    return r
  })
  return (
    <Card title='Profile' subtitle='Kind 0: how Nostr clients show your organization.' testid='nostr-profile'>
      <form className='stack' onSubmit={(e) => { e.preventDefault(); save.run() }}>
        <div className='grid-2'>
          <Field label='Name' hint='1 to 100 characters'>{(id) => <Input id={id} testid='nostr-profile-name' maxLength={100} value={form.name} onChange={(e) => set('name', e.target.value)} />}</Field>
          <Field label='Website' hint='http(s) URL, optional'>{(id) => <Input id={id} testid='nostr-profile-website' maxLength={500} value={form.website} placeholder='https://' onChange={(e) => set('website', e.target.value)} />}</Field>
          <Field label='Picture URL' hint='http(s) URL of an image, optional; Nostr clients load it, this app does not'>{(id) => <Input id={id} testid='nostr-profile-picture' maxLength={500} value={form.picture} placeholder='https://' onChange={(e) => set('picture', e.target.value)} />}</Field>
          <Field label='Location' hint='shown on your listings, optional'>{(id) => <Input id={id} testid='nostr-profile-location' maxLength={200} value={form.location} onChange={(e) => set('location', e.target.value)} />}</Field>
        </div>
        <Field label='About' hint='up to 2000 characters' wide>{(id) => <TextArea id={id} testid='nostr-profile-about' maxLength={2000} rows={3} value={form.about} onChange={(e) => set('about', e.target.value)} />}</Field>
        <Alert error={save.error} testid='nostr-profile-error' />
        <span><Button type='submit' variant='primary' busy={save.running} testid='nostr-profile-save'>Save profile</Button></span>
      </form>
    </Card>
  )
}

function RelaysCard ({ status, onChanged }: { status: NostrStatus; onChanged: () => void }) {
  const [url, setUrl] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const change = useAction(async (args: { add?: string; remove?: string }) => {
    const r = await send('nostr.relays', args)
    onChanged()
    return r
  })
  const add = async () => {
    const p = relayUrlProblem(url)
    setProblem(p)
    if (p) return
    if (await change.run({ add: url.trim() })) setUrl('')
  }
  return (
    <Card title='Relays' subtitle='Where your events are published and where listings are read from (kind 10002 tells others).' testid='nostr-relays'>
      <Table
        testid='nostr-relay-list'
        rows={status.relays}
        rowKey={(r) => r.url}
        rowTestid={(r) => 'nostr-relay-' + r.url}
        empty='No relay yet: nothing is published until you add one.'
        columns={[
          { header: 'Relay', cell: (r) => <code data-testid='nostr-relay-url'>{r.url}</code> },
          {
            header: 'State',
            cell: (r) => {
              const w = relayWords(r)
              return (
                <span className='stack' style={{ gap: 2 }} data-testid='nostr-relay-state' data-state={r.state}>
                  <span><Badge tone={w.tone}>{w.label}</Badge></span>
                  <span className='small muted' data-testid='nostr-relay-detail'>{w.detail}</span>
                </span>
              )
            }
          },
          { header: '', cell: (r) => <Button small variant='ghost' busy={change.running} testid='nostr-relay-remove' onClick={() => { change.run({ remove: r.url }) }}>Remove</Button> }
        ]}
      />
      <form className='row' style={{ alignItems: 'flex-start', marginTop: 8 }} onSubmit={(e) => { e.preventDefault(); void add() }}>
        <Field label='Add a relay' error={problem} hint='wss://relay.example.org'>{(id) => <Input id={id} testid='nostr-relay-add-url' value={url} maxLength={300} placeholder='wss://' onChange={(e) => { setUrl(e.target.value); setProblem(null) }} />}</Field>
        <span style={{ paddingTop: 20 }}><Button type='submit' busy={change.running} testid='nostr-relay-add'>Add relay</Button></span>
      </form>
      <Alert error={change.error} testid='nostr-relays-error' />
    </Card>
  )
}

function EventsCard ({ status, names, onPublished }: { status: NostrStatus; names: ReadonlyMap<string, string>; onPublished: () => void }) {
  const toast = useToast()
  const rows = useMemo(() => eventRows(status, names), [status, names])
  const publish = useAction(async () => {
    const r = await send('nostr.publish', { waitMs: 0 })
    toast(status.relays.length ? 'Published: each event goes to every relay, retried while one is down' : 'Nothing is sent until you add a relay')
    onPublished()
    return r
  })
  return (
    <Card
      title='What is published where'
      subtitle='Every event this node signed for your organization, newest version only, with its delivery on each relay.'
      actions={<Button variant='primary' busy={publish.running} testid='nostr-publish' onClick={() => { publish.run() }}>Publish now</Button>}
      testid='nostr-events'
    >
      <Alert error={publish.error} testid='nostr-publish-error' />
      <Table<EventRow>
        testid='nostr-event-list'
        rows={rows}
        rowKey={(r) => r.key}
        rowTestid={(r) => 'nostr-event-' + r.slug}
        empty='Nothing published yet. Set a profile, add a relay and activate a public project, then "Publish now".'
        columns={[
          { header: 'Event', cell: (r) => <span className='stack' style={{ gap: 2 }}><strong data-testid='nostr-event-label'>{r.label}</strong><span className='small muted' data-testid='nostr-event-about'>{r.about}</span></span> },
          { header: 'Kind', cell: (r) => <span data-testid='nostr-event-kind'>{r.kind}</span> },
          {
            header: 'Address',
            cell: (r) => (
              <span className='stack' style={{ gap: 2 }}>
                <span className='small muted'>{r.codeType}</span>
                <Mono value={r.code} keep={12} testid={'nostr-event-' + r.codeType} />
                <CopyButton text={r.code} label={'Copy ' + r.codeType} testid='nostr-event-copy' />
              </span>
            )
          },
          {
            header: 'On each relay',
            cell: (r) => (
              <span className='stack' style={{ gap: 4 }}>
                {r.deliveries.length === 0 && <span className='small muted'>no relay</span>}
                {r.deliveries.map((d) => (
                  <span key={d.url} className='stack' style={{ gap: 0 }} data-testid='nostr-delivery' data-relay={d.url} data-state={d.state}>
                    <span><Badge tone={DELIVERY_TONES[d.state]}>{d.state}</Badge> <code className='small'>{d.url}</code></span>
                    <span className='small muted' data-testid='nostr-delivery-detail'>{d.detail}</span>
                  </span>
                ))}
              </span>
            )
          }
        ]}
      />
    </Card>
  )
}
