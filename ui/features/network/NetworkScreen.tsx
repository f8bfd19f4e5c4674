/**
 * Network: the peers this node is connected to and who certified them (PeersPanel.tsx), the books it follows (role, writable or
 * read-only, topic key to share), and the three ways to get a book: create one, follow one by its
 * topic key, or become a writer with an invite code.
 */
import { useState } from 'react'
import { send } from '../../lib/contract-client.ts'
import { useAction } from '../../lib/hooks.ts'
import { useNode, type BookInfo } from '../../app/node-context.tsx'
import { Alert, Badge, Button, Card, CopyButton, Field, Input, Mono, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { PeersPanel } from './PeersPanel.tsx'

export function NetworkScreen () {
  const node = useNode()
  const toast = useToast()
  const [name, setName] = useState('')
  const [topic, setTopic] = useState('')
  const [code, setCode] = useState('')
  const create = useAction(async () => {
    const r = await send('book.create', { name })
    setName('')
    toast('Book created')
    node.reload()
    return r
  })
  const join = useAction(async () => {
    const r = await send('book.join', { book: topic.trim() })
    setTopic('')
    toast('Following the book; its records arrive as peers connect')
    node.reload()
    return r
  })
  const accept = useAction(async () => {
    const r = await send('invite.accept', { code: code.trim() })
    setCode('')
    toast('Invite accepted: you can now write to the book')
    node.reload()
    return r
  })
  const books = node.data?.books ?? []

  return (
    <div className='stack' data-testid='screen-network'>
      <div className='page-head'>
        <h1>Network</h1>
        <span className='muted' data-testid='network-peers'>{node.data ? `${node.data.peers} peer${node.data.peers === 1 ? '' : 's'} connected` : ''}</span>
      </div>
      <Card title='Books you follow' subtitle='A book is one lending circle: its records replicate between everyone who follows it.'>
        <Table<BookInfo>
          testid='books'
          rows={books}
          rowKey={(b) => b.topic}
          rowTestid={(b) => 'book-' + b.topic}
          empty='No books yet: create one, follow one by its topic key, or accept an invite.'
          columns={[
            { header: 'Name', cell: (b) => <strong data-testid='book-name'>{b.name}</strong> },
            { header: 'Your role', cell: (b) => b.role ? <Badge tone='info'>{b.role}</Badge> : <span className='muted'>follower</span> },
            { header: 'Status', cell: (b) => <Badge testid='book-status'>{b.writable ? 'writer' : 'read-only'}</Badge> },
            { header: 'Topic key', cell: (b) => <span className='row'><Mono value={b.topic} testid='book-topic' /><CopyButton text={b.topic} testid='copy-topic' /></span> },
            { header: '', cell: (b) => (b.role === 'borrower' || b.role === 'investor') && b.writable && <WitnessButton book={b.topic} /> }
          ]}
        />
      </Card>
      <PeersPanel />
      <div className='grid-2'>
        <Card title='Create a book' subtitle='You become its originator.'>
          <Field label='Name'>{(id) => <Input id={id} value={name} onChange={(e) => setName(e.target.value)} placeholder='Kootenay Lending Circle' testid='book-create-name' />}</Field>
          <div className='row'><Button variant='primary' busy={create.running} disabled={!name.trim()} testid='book-create' onClick={() => { create.run() }}>Create book</Button></div>
          <Alert error={create.error} testid='book-create-error' />
        </Card>
        <Card title='Follow a book' subtitle='Paste the topic key someone shared with you. You can read it; writing needs an invite.'>
          <Field label='Topic key'>{(id) => <Input id={id} value={topic} onChange={(e) => setTopic(e.target.value)} testid='book-join-topic' className='mono' />}</Field>
          <div className='row'><Button variant='primary' busy={join.running} disabled={!topic.trim()} testid='book-join' onClick={() => { join.run() }}>Follow</Button></div>
          <Alert error={join.error} testid='book-join-error' />
        </Card>
        <Card title='Accept an invite' subtitle="The originator's node must be online; it adds you as a writer with the role the invite names.">
          <Field label='Invite code'>{(id) => <Input id={id} value={code} onChange={(e) => setCode(e.target.value)} testid='invite-code-input' className='mono' />}</Field>
          <div className='row'><Button variant='primary' busy={accept.running} disabled={!code.trim()} testid='invite-accept' onClick={() => { accept.run() }}>Accept invite</Button></div>
          {accept.running && <span className='small muted'>Waiting for the originator's node to add you…</span>}
          <Alert error={accept.error} testid='invite-accept-error' />
        </Card>
      </div>
    </div>
  )
}

/**
 * A borrower or investor vouches for today's date in the book (`clock/witness`). The originator's
 * acts on dates (a default after grace, expiring an unpaid funding) count only up to the latest
 * date a borrower or investor has signed, so no one side moves the book's time alone.
 */
function WitnessButton ({ book }: { book: string }) {
  const toast = useToast()
  const witness = useAction(async () => {
    const r = await send('clock.witness', { book })
    toast(`Vouched for ${new Date(r.ts).toISOString().slice(0, 10)} in this book`)
  })
  return (
    <span className='stack' style={{ gap: 2 }}>
      <Button small busy={witness.running} testid='book-witness' title="Sign today's date into the book: the originator can act on dates only as far as members have vouched for them" onClick={() => { witness.run() }}>Vouch for today</Button>
      <Alert error={witness.error} />
    </span>
  )
}
