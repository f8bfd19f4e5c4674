/**
 * The node's wallet, public side only: the Bitcoin BIP-84 account of a network (its account key,
 * to share with the organization's other devices as a watch-only wallet, and a receive address),
 * and the Rootstock address of a chain. The keys never leave the node: the core answers
 * `wallet.show` / `wallet.receive` with public keys and addresses, never the words or a private
 * key. Each receive address comes with its BIP-21 URI (`bitcoin:<address>`, on regtest too) and
 * that URI as a QR code drawn here (components/QrCode.tsx), for a phone wallet to scan.
 * With a Bitcoin backend, the wallet's balance, transactions and a send form (BitcoinWallet.tsx).
 */
import { useState } from 'react'
import { send } from '../../lib/contract-client.ts'
import { useQuery } from '../../lib/hooks.ts'
import { Alert, Button, Card, CopyButton, Field, Mono, QrCode, Select, Spinner } from '../../components/index.ts'
import { buildBip21 } from '../../../core/wallet/bip21.ts'
import type { Api } from '../../../app/session.ts'
import { BitcoinWalletCard } from './BitcoinWallet.tsx'

type Network = NonNullable<Api['wallet.show']['args']['network']>

const NETWORKS: Array<{ id: Network; label: string }> = [
  { id: 'mainnet', label: 'Bitcoin mainnet' },
  { id: 'testnet', label: 'Bitcoin testnet' },
  { id: 'signet', label: 'Bitcoin signet' },
  { id: 'regtest', label: 'Bitcoin regtest (local)' }
]

const CHAINS: Array<{ id: number; label: string }> = [
  { id: 30, label: 'Rootstock mainnet (30)' },
  { id: 31, label: 'Rootstock testnet (31)' },
  { id: 33, label: 'Local dev chain (33)' }
]

export function WalletScreen () {
  const [network, setNetwork] = useState<Network>('regtest')
  const [chainId, setChainId] = useState(33)
  const [index, setIndex] = useState(0)
  const shown = useQuery(() => send('wallet.show', { network, chainId }), [network, chainId])
  const receive = useQuery(() => send('wallet.receive', { network, index }), [network, index])
  const btc = shown.data?.bitcoin
  const rsk = shown.data?.rootstock
  return (
    <div className='stack' data-testid='screen-wallet'>
      <div className='page-head'>
        <h1>Wallet</h1>
        <p className='muted'>One seed for this node, kept here encrypted. Its words leave the node only inside your backup (Credentials, Back up).</p>
      </div>
      <Alert error={shown.error} testid='wallet-error' />
      <BitcoinWalletCard />
      <div className='grid-2'>
        <Card title='Bitcoin account' subtitle='BIP-84 (native SegWit)' testid='wallet-bitcoin'>
          <Field label='Network'>
            {(id) => (
              <Select id={id} value={network} onChange={(e) => { setNetwork(e.target.value as Network); setIndex(0) }} testid='wallet-network'>
                {NETWORKS.map((n) => <option key={n.id} value={n.id}>{n.label}</option>)}
              </Select>
            )}
          </Field>
          {!btc ? <Spinner label='deriving' /> : (
            <dl className='kv'>
              <dt>Account</dt><dd><code className='mono' data-testid='wallet-path'>{btc.path}</code></dd>
              <dt>Account key</dt>
              <dd>
                <Mono value={btc.xpub} keep={12} testid='wallet-xpub' /> <CopyButton text={btc.xpub} label='Copy xpub' testid='wallet-copy-xpub' />
                <div className='muted small'>Share it with your organization's other devices: they see the balance and addresses, and cannot spend.</div>
              </dd>
              <dt>SegWit key</dt><dd><Mono value={btc.zpub} keep={12} testid='wallet-zpub' /> <CopyButton text={btc.zpub} label='Copy' testid='wallet-copy-zpub' /></dd>
            </dl>
          )}
        </Card>
        <Card
          title='Receive' subtitle={`Address ${index} of the account; each funding and loan gets its own`} testid='wallet-receive'
          actions={<Button small variant='ghost' testid='wallet-next-address' onClick={() => setIndex((i) => i + 1)}>New address</Button>}
        >
          <Alert error={receive.error} testid='wallet-receive-error' />
          {!receive.data ? <Spinner label='deriving' /> : <ReceiveAddress address={receive.data.address} path={receive.data.path} network={network} />}
        </Card>
        <Card title='Rootstock' subtitle="BIP-44, coin type 137; the address's checksum depends on the chain" testid='wallet-rootstock'>
          <Field label='Chain'>
            {(id) => (
              <Select id={id} value={String(chainId)} onChange={(e) => setChainId(Number(e.target.value))} testid='wallet-chain'>
                {CHAINS.map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}
              </Select>
            )}
          </Field>
          {!rsk ? <Spinner label='deriving' /> : (
            <dl className='kv'>
              <dt>Address</dt>
              <dd><code className='mono' data-testid='wallet-rsk-address' data-value={rsk.address}>{rsk.address}</code> <CopyButton text={rsk.address} testid='wallet-copy-rsk' /></dd>
              <dt>Account</dt><dd><code className='mono'>{rsk.path}</code></dd>
            </dl>
          )}
        </Card>
      </div>
    </div>
  )
}

/**
 * One receive address with its BIP-21 URI and QR code. The core derived the address; it is still
 * checked against the network before it is offered to a payer's wallet.
 */
function ReceiveAddress ({ address, path, network }: { address: string; path: string; network: Network }) {
  let uri: string | null = null
  let problem: string | null = null
  try {
    uri = buildBip21({ address }, { network })
  } catch (err) {
    problem = (err as Error).message
  }
  return (
    <div className='pay-request' data-testid='wallet-receive-address'>
      <dl className='kv pay-request-text'>
        <dt>Address</dt>
        <dd><code className='mono' data-testid='wallet-address' data-value={address}>{address}</code> <CopyButton text={address} testid='wallet-copy-address' /></dd>
        <dt>Path</dt><dd><code className='mono' data-testid='wallet-address-path'>{path}</code></dd>
        {uri && <>
          <dt>Payment URI</dt>
          <dd><code className='mono' data-testid='wallet-address-uri' data-value={uri}>{uri}</code> <CopyButton text={uri} label='Copy URI' testid='wallet-copy-uri' /></dd>
        </>}
      </dl>
      {uri ? <QrCode text={uri} label={`QR code of ${uri}`} testid='wallet-address-qr' /> : <Alert testid='wallet-uri-error'>{problem}</Alert>}
    </div>
  )
}
