/**
 * What every screen needs about the running node: its DID, peer count and followed books (the
 * contract's `status`), re-read when the core says books, peers or the identity changed.
 */
import { createContext, useContext, type ReactNode } from 'react'
import { send } from '../lib/contract-client.ts'
import { useQuery, type Query } from '../lib/hooks.ts'
import type { Api } from '../../app/session.ts'

export type NodeStatus = Api['status']['result']
export type BookInfo = NodeStatus['books'][number]

const NodeContext = createContext<Query<NodeStatus> | null>(null)

/** Provides the node's status to the screens under it. */
export function NodeProvider ({ children }: { children: ReactNode }) {
  const q = useQuery(() => send('status', {}), [], ['book.changed', 'peers', 'identity'])
  return <NodeContext.Provider value={q}>{children}</NodeContext.Provider>
}

/** The node's status query (data undefined until the first answer). */
export function useNode (): Query<NodeStatus> {
  const q = useContext(NodeContext)
  if (!q) throw new Error('useNode outside NodeProvider')
  return q
}
