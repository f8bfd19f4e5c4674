/**
 * The peers this node is connected to and who certified each (`network.peers`): the chain in the
 * peer's signed hello, verified up to a founder of the network in use. A certified peer expands
 * to "certified by <governance> (governance), certified by founder <DID>"; an uncertified one
 * shows why. Names come from certificates; DIDs are shown shortened with the full value kept.
 */
import { send } from '../../lib/contract-client.ts'
import { useQuery } from '../../lib/hooks.ts'
import { Alert, Badge, Button, Card, Mono } from '../../components/index.ts'
import type { Api } from '../../../app/session.ts'

type Peer = Api['network.peers']['result'][number]
type Link = NonNullable<Peer['certifiedBy']>[number]

/**
 * Who certified whom, organization first: each link's issuer, named by the link before it (the
 * founder has no name: it is a DID of the network's definition).
 */
export function certifiers (links: readonly Link[]): Array<{ did: string; name: string | null; founder: boolean }> {
  return links.map((l, i) => ({ did: l.issuer, name: i === 0 ? null : links[i - 1].name, founder: i === 0 })).reverse()
}

export function PeersPanel () {
  const q = useQuery(() => send('network.peers', {}), [], ['peers', 'market.changed'])
  const check = async () => { await send('network.peers', { refresh: true }); q.reload() }
  const peers = q.data ?? []
  return (
    <Card
      title='Connected peers'
      subtitle='Who certified each peer, from the certificate chain it signed when it connected.'
      testid='peers'
      actions={<Button small variant='ghost' testid='peers-recheck' onClick={() => { check().catch(() => q.reload()) }}>Check again</Button>}
    >
      <Alert error={q.error} testid='peers-error' />
      {peers.length === 0 && !q.loading && <span className='muted'>No peers connected.</span>}
      <ul className='stack' style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {peers.map((p) => <PeerRow key={p.did} peer={p} />)}
      </ul>
    </Card>
  )
}

function PeerRow ({ peer }: { peer: Peer }) {
  return (
    <li data-testid={'peer-' + peer.did} data-certified={String(peer.certified)}>
      <details>
        <summary className='row' data-testid='peer-expand'>
          <Mono value={peer.did} testid='peer-did' />
          <Badge tone={peer.certified ? 'good' : 'warn'} testid='peer-cert-badge'>{peer.certified ? 'certified' : 'uncertified'}</Badge>
          {peer.certified && peer.organization && (
            <span data-testid='peer-org' data-value={peer.organization.name}>
              <strong>{peer.organization.name}</strong> <span className='muted small'>{peer.organization.roles.join(', ')}</span>
            </span>
          )}
        </summary>
        {peer.certified
          ? (
            <ul className='small' data-testid='peer-certifiers'>
              {certifiers(peer.certifiedBy ?? []).map((c) => (
                <li key={c.did} data-testid={c.founder ? 'peer-founder' : 'peer-certifier'} data-value={c.did}>
                  {c.founder ? 'certified by founder ' : <>certified by <strong data-testid='peer-certifier-name'>{c.name}</strong> (governance) </>}
                  <Mono value={c.did} />
                </li>
              ))}
            </ul>
            )
          : <p className='small muted' data-testid='peer-reason'>{peer.reason ?? 'not certified'}</p>}
      </details>
    </li>
  )
}
