/**
 * The Marketplace's "On Nostr" section: Growr listings (NIP-99) read from this node's relays, a
 * second way to find projects beside the network's ads. Each shows its title, its author's npub,
 * its loan range, its naddr, and the verified / unverified mark with the core's reason; one click
 * follows the book the listing names (read-only), after which the mark can turn verified once the
 * book replicates and is found to record the author's key.
 *
 * Everything in a listing is a stranger's claim: fields are capped (nostr-listings.ts) and shown
 * as text; the Markdown description is shown as plain text, never rendered. Re-reads on
 * `nostr.changed` (listings arrived) and `book.changed` (a followed book may now verify one).
 */
import { useMemo } from 'react'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import type { BookInfo } from '../../app/node-context.tsx'
import { Alert, Badge, Button, Card, CopyButton, Mono } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { MAX_NOSTR_SHOWN, nostrListingRows, type NostrListingRow } from './nostr-listings.ts'

export function NostrListingsCard ({ books, onFollowed }: { books: BookInfo[]; onFollowed: (topic: string) => void }) {
  const listings = useQuery(() => send('nostr.listings', {}), [], ['nostr.changed', 'book.changed'])
  const rows = useMemo(() => nostrListingRows(listings.data ?? []), [listings.data])
  const followed = new Map(books.map((b) => [b.topic, b]))
  const total = listings.data?.length ?? 0
  return (
    <Card
      title='On Nostr'
      subtitle="Growr listings published on your Nostr relays (Publishing screen). Anyone can publish one naming any book: a listing is verified only when you follow that book and it records the author's key."
      actions={<Button small busy={listings.loading} testid='nostr-listings-refresh' onClick={() => listings.reload()}>Refresh</Button>}
      testid='market-nostr'
    >
      <Alert error={listings.error} testid='nostr-listings-error' />
      {listings.data && rows.length === 0 && <p className='muted' data-testid='nostr-listings-empty'>No Growr listing on your relays yet (add relays on the Publishing screen).</p>}
      {total > MAX_NOSTR_SHOWN && <p className='muted small'>Showing {MAX_NOSTR_SHOWN} of {total} listings (verified ones first).</p>}
      {rows.map((r) => <NostrListingItem key={r.key} row={r} book={r.topic ? followed.get(r.topic) : undefined} onFollowed={() => { listings.reload(); if (r.topic) onFollowed(r.topic) }} />)}
    </Card>
  )
}

function NostrListingItem ({ row, book, onFollowed }: { row: NostrListingRow; book: BookInfo | undefined; onFollowed: () => void }) {
  return (
    <section className='card' style={{ padding: 12 }} data-testid={'nostr-listing-' + row.projectId} data-verified={String(row.verified)}>
      <div className='row' style={{ justifyContent: 'space-between', alignItems: 'flex-start', gap: 12 }}>
        <div className='stack' style={{ gap: 2, minWidth: 0 }}>
          <strong data-testid='nostr-listing-title'>{row.title}</strong>
          {row.summary && <span className='small' data-testid='nostr-listing-summary'>{row.summary}</span>}
          <span className='small'>Loans <span data-testid='nostr-listing-price'>{row.price}</span>{row.location && <> · <span data-testid='nostr-listing-location'>{row.location}</span></>}</span>
          <span className='small muted'>by <Mono value={row.npub} keep={12} testid='nostr-listing-npub' /> · seen on {row.relays} relay{row.relays === 1 ? '' : 's'}</span>
        </div>
        <span className='stack' style={{ gap: 2, alignItems: 'flex-end', maxWidth: '45%' }} data-testid='nostr-listing-mark' data-verified={String(row.verified)}>
          <Badge tone={row.verified ? 'good' : 'warn'} testid='nostr-listing-badge'>{row.mark}</Badge>
          <span className='small muted' data-testid='nostr-listing-reason' style={{ textAlign: 'right' }}>{row.reason}</span>
        </span>
      </div>
      <div className='row' style={{ alignItems: 'center', gap: 6, marginTop: 6, flexWrap: 'wrap' }}>
        <span className='small muted'>naddr</span>
        <Mono value={row.naddr} keep={14} testid='nostr-listing-naddr' />
        <CopyButton text={row.naddr} label='Copy naddr' testid='nostr-listing-naddr-copy' />
        <span className='spacer' />
        <FollowButton row={row} book={book} onFollowed={onFollowed} />
      </div>
      {row.content && (
        <details style={{ marginTop: 6 }}>
          <summary className='small'>Description (as the author wrote it, shown as plain text)</summary>
          <pre className='small' data-testid='nostr-listing-content' style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', maxHeight: 240, overflow: 'auto' }}>{row.content}{row.contentCut ? '\n[cut here: the rest is not shown]' : ''}</pre>
        </details>
      )}
    </section>
  )
}

function FollowButton ({ row, book, onFollowed }: { row: NostrListingRow; book: BookInfo | undefined; onFollowed: () => void }) {
  const toast = useToast()
  const follow = useAction(async () => {
    if (!row.topic) throw new Error('this listing names no book')
    const r = await send('book.join', { book: row.topic })
    toast('Following the book this listing names (read-only); the mark turns verified once it replicates, if the book records the author\'s key')
    onFollowed()
    return r
  })
  if (!row.topic) return <span className='small muted' data-testid='nostr-listing-no-book'>names no book that can be followed</span>
  if (book) return <Badge tone={book.role === 'originator' ? 'info' : 'plain'} testid='nostr-listing-following'>{book.role === 'originator' ? 'your book' : 'following its book'}</Badge>
  return (
    <span className='stack' style={{ gap: 2 }}>
      <Button small variant='primary' busy={follow.running} testid='nostr-listing-follow' onClick={() => { follow.run() }}>Follow its book</Button>
      <Alert error={follow.error} testid='nostr-listing-follow-error' />
    </span>
  )
}
