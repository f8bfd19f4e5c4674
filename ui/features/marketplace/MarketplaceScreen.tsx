/**
 * Marketplace: the network this node is in, the open projects its originators advertise (grouped
 * by originator, each with its certification mark), Growr listings found on Nostr ("On Nostr",
 * NostrListings.tsx), the credential issuers and verifiers on it, and joining an advertised book
 * in one click. Joining follows the book read-only; the book then shows in the picker below with
 * its projects, and when it has an open public project one more click asks its originator to
 * admit this node as a borrower or investor (else: an invite).
 *
 * The ads arrive by gossip on the network topic and the core pushes no event for them, so the
 * lists re-read on a timer (and on peer and book events); everything shown comes from other
 * nodes' ads and is treated as their claim (see market.ts).
 */
import { useMemo } from 'react'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery, type Query } from '../../lib/hooks.ts'
import { useNode, type BookInfo } from '../../app/node-context.tsx'
import { Alert, Badge, Button, Card, Mono, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { BookPicker, useBookChoice } from '../shared/BookPicker.tsx'
import { NostrListingsCard } from './NostrListings.tsx'
import { certificationOf, groupByOriginator, listerMismatch, organizationWords, serviceProviders, type OriginatorGroup, type ProjectRow, type ProviderRow } from './market.ts'
import type { NodeListing, ProjectListing } from '../../../core/network/ads/directory.ts'
import type { Project } from '../../../books/entities.ts'
import { formatBps, formatMinor } from '../../../core/services/criteria.ts'

/**
 * Most originators and providers drawn: a directory may hold thousands of ads of up to 32 books of
 * 32 projects each, and a page that tried to draw them all would stop answering.
 */
export const MAX_SHOWN = 200

export function MarketplaceScreen () {
  const node = useNode()
  const books = node.data?.books ?? []
  const me = node.data?.did ?? ''
  const network = useQuery(() => send('network.show', {}), [], ['identity'])
  const projects = useQuery(() => send('market.projects', {}), [], ['market.changed', 'book.changed'])
  const nodes = useQuery(() => send('market.query', {}), [], ['market.changed', 'book.changed'])
  const [book, setBook] = useBookChoice('marketplace', books)

  const byDid = useMemo(() => new Map((nodes.data ?? []).map((n) => [n.did as string, n])), [nodes.data])
  const groups = useMemo(() => groupByOriginator(projects.data ?? []), [projects.data])
  const providers = useMemo(() => serviceProviders(nodes.data ?? []), [nodes.data])
  const followed = new Set(books.map((b) => b.topic))

  return (
    <div className='stack' data-testid='screen-marketplace'>
      <div className='page-head'>
        <h1>Marketplace</h1>
        <span className='muted small' data-testid='market-counts'>
          {nodes.data ? `${nodes.data.length} node${nodes.data.length === 1 ? '' : 's'} advertising, ${projects.data?.length ?? 0} open project${projects.data?.length === 1 ? '' : 's'}` : ''}
        </span>
      </div>
      <NetworkCard network={network} />
      <Card title='Open projects' subtitle='Active public projects, from the ads originators sign and send across the network.' testid='market-projects'>
        <Alert error={projects.error} testid='market-projects-error' />
        {projects.data && groups.length === 0 && <p className='muted' data-testid='market-projects-empty'>No open projects advertised yet. Ads arrive within seconds of meeting other nodes.</p>}
        {groups.length > MAX_SHOWN && <p className='muted small' data-testid='market-projects-more'>Showing {MAX_SHOWN} of {groups.length} originators (certified ones first).</p>}
        {groups.slice(0, MAX_SHOWN).map((g) => <OriginatorProjects key={g.did} group={g} node={byDid.get(g.did)} me={me} followed={followed} onJoined={(topic) => { node.reload(); setBook(topic) }} />)}
      </Card>
      <NostrListingsCard books={books} onFollowed={(topic) => { node.reload(); setBook(topic) }} />
      <Card title='Service providers' subtitle='Credential issuers and verifiers on this network.' testid='market-providers'>
        <Alert error={nodes.error} />
        {providers.length > MAX_SHOWN && <p className='muted small'>Showing {MAX_SHOWN} of {providers.length} providers (certified ones first).</p>}
        <Table<ProviderRow>
          testid='providers'
          rows={providers.slice(0, MAX_SHOWN)}
          rowKey={(r) => r.node.did}
          rowTestid={(r) => 'provider-' + r.node.did}
          empty='No issuer or verifier advertised yet.'
          columns={[
            { header: 'Provider', cell: (r) => <NodeName organization={r.node.organization} did={r.node.did} certified={r.node.certified} /> },
            { header: 'Issues', cell: (r) => r.issues.length ? <span data-testid='provider-issues'>{r.issues.join(', ')}</span> : <span className='muted'>—</span> },
            { header: 'Verifies', cell: (r) => r.verifies ? <Badge tone='info' testid='provider-verifies'>verification</Badge> : <span className='muted'>—</span> },
            { header: 'Certification', cell: (r) => <Certification mark={r.node} node={r.node} /> }
          ]}
        />
      </Card>
      <FollowedBooks books={books} book={book} setBook={setBook} listings={projects.data ?? []} />
    </div>
  )
}

function NetworkCard ({ network }: { network: Query<{ name: string; topic: string; founders: string[]; description?: string; source: string }> }) {
  const n = network.data
  return (
    <Card title='Network' testid='market-network'>
      <Alert error={network.error} />
      {n && (
        <>
          <dl className='kv'>
            <dt>Name</dt><dd><strong data-testid='market-network-name'>{n.name}</strong> <span className='muted small'>({n.source === 'default' ? 'the one this release ships' : n.source === 'setting' ? 'chosen for this node' : 'given for this request'})</span></dd>
            <dt>Founders</dt><dd>{n.founders.map((f) => <div key={f}><Mono value={f} keep={14} /></div>)}</dd>
            <dt>Topic</dt><dd><Mono value={n.topic} keep={12} testid='market-network-topic' /></dd>
          </dl>
          {n.name === 'growr-dev' && (
            <Alert tone='warn' testid='market-dev-warning'>
              This is the development network: its founding key was made on a developer's machine, so a certificate on it proves nothing. Do not lend real money here.
            </Alert>
          )}
        </>
      )}
    </Card>
  )
}

/** A node's organization (marked self-declared when no certificate backs it) and its DID. */
function NodeName ({ organization, did, certified }: { organization: string; did: string; certified: boolean }) {
  const org = organizationWords(organization, certified)
  return (
    <span className='stack' style={{ gap: 2 }}>
      <strong data-testid='market-org' data-value={organization}>{org.name}</strong>
      {org.selfDeclared && <span className='small muted' data-testid='market-org-self-declared'>name given by the node itself, not certified</span>}
      <Mono value={did} keep={12} testid='market-did' />
    </span>
  )
}

function Certification ({ mark, node }: { mark: { certified: boolean; certifiedBy: string | null }; node?: NodeListing }) {
  const c = certificationOf(mark, node)
  return (
    <span className='stack' style={{ gap: 2 }} data-testid='market-cert' data-certified={String(c.certified)}>
      <span><Badge tone={c.certified ? 'good' : 'warn'} testid='market-cert-badge'>{c.label}</Badge></span>
      <span className='small muted' data-testid='market-cert-detail'>{c.detail}</span>
    </span>
  )
}

function OriginatorProjects ({ group, node, me, followed, onJoined }: { group: OriginatorGroup; node?: NodeListing; me: string; followed: Set<string>; onJoined: (topic: string) => void }) {
  return (
    <section className='card' style={{ padding: 12 }} data-testid={'market-originator-' + group.did}>
      <div className='row' style={{ justifyContent: 'space-between', alignItems: 'flex-start' }}>
        <NodeName organization={group.organization} did={group.did} certified={group.certified} />
        <Certification mark={group} node={node} />
      </div>
      <Table<ProjectRow>
        rows={group.projects}
        rowKey={(r) => r.key}
        rowTestid={(r) => 'market-project-' + r.listing.projectId}
        columns={[
          { header: 'Project', cell: (r) => <><strong data-testid='market-project-name'>{r.listing.name}</strong><div className='small muted'>in <span data-testid='market-book-name'>{r.listing.bookName}</span></div></> },
          { header: 'Currency', cell: (r) => <span data-testid='market-currency'>{r.listing.currency}</span> },
          { header: 'Target', align: 'right', cell: (r) => <span data-testid='market-amount' style={{ whiteSpace: 'nowrap' }}>{r.amount}</span> },
          { header: 'Loans', cell: (r) => <span data-testid='market-loans'>{r.loans}</span> },
          { header: 'Rate', cell: (r) => <span data-testid='market-rate'>{r.rate}</span> },
          { header: '', cell: (r) => <JoinButton listing={r.listing} mine={group.did === me} following={followed.has(r.listing.book)} onJoined={onJoined} /> }
        ]}
      />
    </section>
  )
}

function JoinButton ({ listing, mine, following, onJoined }: { listing: ProjectListing; mine: boolean; following: boolean; onJoined: (topic: string) => void }) {
  const toast = useToast()
  const join = useAction(async () => {
    const r = await send('market.join', { topic: listing.book })
    toast(r.originator !== null && !r.listerIsOriginator
      ? `Following ${listing.bookName} read-only. Careful: it was listed by ${r.listedBy}, but the book's originator is ${r.originator}`
      : `Following ${listing.bookName} read-only; join it as a borrower or investor below`)
    onJoined(r.topic)
    return r
  })
  if (mine) return <Badge tone='info' testid='market-mine'>your book</Badge>
  if (following) return <Badge tone='plain' testid='market-following'>following</Badge>
  return (
    <span className='stack' style={{ gap: 2 }}>
      <Button small variant='primary' busy={join.running} testid='market-join' onClick={() => { join.run() }}>Join this book</Button>
      <Alert error={join.error} testid='market-join-error' />
    </span>
  )
}

/**
 * A reader of a book with an open public project asks its originator, in one click, to admit it
 * as a borrower or an investor (market.join with a role); otherwise joining needs an invite.
 */
function AdmitButtons ({ topic, open }: { topic: string; open: boolean }) {
  const toast = useToast()
  const admit = useAction(async (role: 'borrower' | 'investor') => {
    const r = await send('market.join', { topic, role, timeoutMs: 30_000 })
    toast(`The originator admitted you as ${role === 'borrower' ? 'a borrower: you can apply on the Borrower screen' : 'an investor: you can fund on the Investor screen'}`)
    return r
  })
  if (!open) {
    return (
      <Alert tone='info' testid='market-invite-note'>
        You can read this book. Its projects are not open to everyone: to apply for a loan or fund a project you need an invite from its originator (accept it on the Network screen).
      </Alert>
    )
  }
  return (
    <div className='stack' data-testid='market-admit'>
      <p className='muted small'>You can read this book. Its open projects take anyone: ask its originator's node to admit you.</p>
      <span className='row'>
        <Button small variant='primary' busy={admit.running} testid='market-admit-borrower' onClick={() => { admit.run('borrower') }}>Join as a borrower</Button>
        <Button small busy={admit.running} testid='market-admit-investor' onClick={() => { admit.run('investor') }}>Join as an investor</Button>
      </span>
      <Alert error={admit.error} testid='market-admit-error' />
    </div>
  )
}

/** The books this node follows, in the app's book picker, with the chosen one's projects as a reader sees them. */
function FollowedBooks ({ books, book, setBook, listings }: { books: BookInfo[]; book: string | null; setBook: (topic: string) => void; listings: ProjectListing[] }) {
  const info = books.find((b) => b.topic === book)
  return (
    <Card title='Books you follow' actions={<BookPicker books={books} value={book} onChange={setBook} testid='market-book' />} testid='market-followed'>
      {!info
        ? <p className='muted'>You follow no book yet: join one above.</p>
        : <FollowedBook key={info.topic} info={info} listings={listings} />}
    </Card>
  )
}

function FollowedBook ({ info, listings }: { info: BookInfo; listings: ProjectListing[] }) {
  const reader = info.role === null || !info.writable
  // a freshly joined book has not replicated yet: asked briefly, then again on each book.changed
  const shown = useQuery(() => send('book.show', { book: info.topic, timeoutMs: 1500 }), [info.topic], ['book.changed'])
  const projects = useQuery(() => send('project.list', { book: info.topic, timeoutMs: 1500 }), [info.topic], ['book.changed'])
  const active = (projects.data ?? []).filter((p) => p.status === 'active')
  const mismatch = listerMismatch(listings, info.topic, shown.data?.originator)
  return (
    <div className='stack' data-testid={'market-followed-' + info.topic}>
      <dl className='kv'>
        <dt>Your role</dt><dd data-testid='market-book-role' data-role={info.role ?? 'reader'}>{reader ? 'reader (read-only)' : info.role}</dd>
        <dt>Originator</dt><dd>{shown.data ? <Mono value={shown.data.originator} keep={12} testid='market-book-originator' /> : <span className='muted small'>waiting for the book to replicate</span>}</dd>
      </dl>
      {mismatch && <Alert tone='bad' testid='market-lister-warning'>{mismatch}</Alert>}
      {reader && <AdmitButtons topic={info.topic} open={active.some((p) => p.terms.isPublic && !p.terms.isInviteOnly)} />}
      <Table<Project>
        testid='market-book-projects'
        rows={active}
        rowKey={(p) => p.projectId}
        rowTestid={(p) => 'market-book-project-' + p.projectId}
        empty={projects.data ? 'No active projects in this book (yet: records arrive as peers connect).' : 'Reading the book…'}
        columns={[
          { header: 'Project', cell: (p) => <strong data-testid='market-book-project-name'>{p.terms.name}</strong> },
          { header: 'Target', align: 'right', cell: (p) => formatMinor(p.terms.amount, p.terms.currency) },
          { header: 'Loans', cell: (p) => `${formatMinor(p.terms.loanMinAmount, p.terms.currency)} to ${formatMinor(p.terms.loanMaxAmount, p.terms.currency)}, ${p.terms.loanMinDuration} to ${p.terms.loanMaxDuration} months` },
          { header: 'Rate', cell: (p) => `${formatBps(p.terms.annualRateBps)} a year` },
          { header: 'Applications', cell: (p) => `${p.terms.startDate} to ${p.terms.endDate}` }
        ]}
      />
    </div>
  )
}
