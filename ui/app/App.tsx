/**
 * The app's top level: onboarding until an identity exists and the user picked a starting role,
 * then the shell (left nav, header with DID and peers, one screen at a time).
 */
import { useEffect, useState } from 'react'
import { send } from '../lib/contract-client.ts'
import { useQuery } from '../lib/hooks.ts'
import { Alert, CopyButton, Mono, Spinner } from '../components/index.ts'
import { NodeProvider, useNode } from './node-context.tsx'
import { Onboarding } from '../features/onboarding/Onboarding.tsx'
import { NetworkScreen } from '../features/network/NetworkScreen.tsx'
import { MarketplaceScreen } from '../features/marketplace/MarketplaceScreen.tsx'
import { OriginatorScreen } from '../features/originator/OriginatorScreen.tsx'
import { PublishingScreen } from '../features/publishing/PublishingScreen.tsx'
import { BorrowerScreen } from '../features/borrower/BorrowerScreen.tsx'
import { InvestorScreen } from '../features/investor/InvestorScreen.tsx'
import { CredentialsScreen } from '../features/credentials/CredentialsScreen.tsx'
import { WalletScreen } from '../features/wallet/WalletScreen.tsx'
import { TrustlinesScreen } from '../features/trustlines/TrustlinesScreen.tsx'

export const TABS = [
  { id: 'network', label: 'Network' },
  { id: 'marketplace', label: 'Marketplace' },
  { id: 'originator', label: 'Originator' },
  { id: 'publishing', label: 'Publishing' },
  { id: 'borrower', label: 'Borrower' },
  { id: 'investor', label: 'Investor' },
  { id: 'credentials', label: 'Credentials' },
  { id: 'trustlines', label: 'Trustlines' },
  { id: 'wallet', label: 'Wallet' }
] as const
export type Tab = typeof TABS[number]['id']

const ROLE_KEY = 'growr.role'

function savedTab (): Tab {
  const t = localStorage.getItem(ROLE_KEY)
  return TABS.some((x) => x.id === t) ? t as Tab : 'network'
}

export function App () {
  const session = useQuery(() => send('session.status', {}), [], ['identity'])
  // once onboarding started it stays until a role is picked, even after the identity exists
  const [onboarding, setOnboarding] = useState<boolean | null>(null)
  const [tab, setTab] = useState<Tab>(savedTab)

  useEffect(() => {
    if (onboarding === null && session.data) setOnboarding(session.data.did === null)
  }, [session.data, onboarding])

  if (session.error && !session.data) {
    return <div className='onboarding'><h1>Growr</h1><Alert error={session.error} testid='session-error' /></div>
  }
  if (!session.data || onboarding === null) return <div className='onboarding'><Spinner label='connecting' /></div>
  if (onboarding) {
    return (
      <Onboarding onDone={(role) => {
        localStorage.setItem(ROLE_KEY, role)
        setTab(role)
        setOnboarding(false)
      }}
      />
    )
  }
  return (
    <NodeProvider>
      <Shell tab={tab} setTab={(t) => { setTab(t) }} storageNotes={session.data.storageNotes} />
    </NodeProvider>
  )
}

function Shell ({ tab, setTab, storageNotes }: { tab: Tab; setTab: (t: Tab) => void; storageNotes: string[] }) {
  const node = useNode()
  return (
    <div className='shell'>
      <nav className='nav' aria-label='Screens'>
        <div className='brand'>Grow<span>r</span></div>
        {TABS.map((t) => (
          <button key={t.id} data-testid={'nav-' + t.id} aria-current={tab === t.id ? 'page' : undefined} onClick={() => setTab(t.id)}>{t.label}</button>
        ))}
      </nav>
      <div className='main'>
        <header className='topbar'>
          <span className='muted small'>Your DID</span>
          {node.data ? <Mono value={node.data.did} keep={14} testid='my-did' /> : <Spinner />}
          {node.data && <CopyButton text={node.data.did} testid='copy-did' />}
          <span className='spacer' />
          <span className='small' data-testid='peer-count' data-count={node.data?.peers ?? 0}>
            {node.data ? `${node.data.peers} peer${node.data.peers === 1 ? '' : 's'} connected` : ''}
          </span>
        </header>
        <main className='content'>
          {node.error && <Alert error={node.error} />}
          {storageNotes.length > 0 && <Alert tone='info' testid='storage-notes'>Growr made its storage private again: {storageNotes.join('; ')}</Alert>}
          {tab === 'network' && <NetworkScreen />}
          {tab === 'marketplace' && <MarketplaceScreen />}
          {tab === 'originator' && <OriginatorScreen />}
          {tab === 'publishing' && <PublishingScreen />}
          {tab === 'borrower' && <BorrowerScreen />}
          {tab === 'investor' && <InvestorScreen />}
          {tab === 'credentials' && <CredentialsScreen />}
          {tab === 'trustlines' && <TrustlinesScreen />}
          {tab === 'wallet' && <WalletScreen />}
        </main>
      </div>
    </div>
  )
}
