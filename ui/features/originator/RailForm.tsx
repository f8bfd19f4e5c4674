/**
 * Choosing how a draft BTC project's money moves (`project.rail`): manual (recorded and confirmed
 * by hand), Bitcoin (paid to posted addresses, proven with a transaction, its inclusion proof and
 * the confirmations the project asks for) or Lightning (paid to posted invoices, proven by the
 * preimage). The book accepts a rail only while the project is a draft and only in BTC.
 */
import { useState } from 'react'
import type { Project } from '../../../books/entities.ts'
import type { BitcoinNetwork } from '../../../books/ops/types.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction } from '../../lib/hooks.ts'
import { Alert, Button, Input, Select } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'

const NETWORKS: BitcoinNetwork[] = ['mainnet', 'testnet', 'signet', 'regtest']

export function RailForm ({ book, project }: { book: string; project: Project }) {
  const toast = useToast()
  const [rail, setRail] = useState<'bitcoin' | 'lightning'>('bitcoin')
  const [network, setNetwork] = useState<BitcoinNetwork>('regtest')
  const [confirmations, setConfirmations] = useState('1')
  const save = useAction(async () => {
    const n = Number(confirmations)
    if (rail === 'bitcoin' && (!/^\d{1,3}$/.test(confirmations) || n < 1)) throw new Error('Confirmations must be a whole number from 1')
    await send('project.rail', { book, project: project.projectId, rail, network, confirmations: rail === 'bitcoin' ? n : undefined })
    toast(`Payments of ${project.terms.name} now go on ${rail === 'bitcoin' ? 'Bitcoin' : 'Lightning'} (${network})`)
  })
  return (
    <form className='stack' style={{ gap: 4 }} onSubmit={(e) => { e.preventDefault(); save.run() }} data-testid='rail-form'>
      <div className='row'>
        <Select aria-label='Rail' value={rail} onChange={(e) => setRail(e.target.value as 'bitcoin' | 'lightning')} testid='rail-kind'>
          <option value='bitcoin'>Bitcoin</option>
          <option value='lightning'>Lightning</option>
        </Select>
        <Select aria-label='Network' value={network} onChange={(e) => setNetwork(e.target.value as BitcoinNetwork)} testid='rail-network'>
          {NETWORKS.map((n) => <option key={n} value={n}>{n}</option>)}
        </Select>
        {rail === 'bitcoin' && <Input aria-label='Confirmations' title='confirmations a proof must show' value={confirmations} onChange={(e) => setConfirmations(e.target.value)} style={{ width: 56 }} testid='rail-confirmations' />}
        <Button small type='submit' busy={save.running} testid='rail-save'>Set rail</Button>
      </div>
      <Alert error={save.error} testid='rail-error' />
    </form>
  )
}
