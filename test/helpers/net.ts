/**
 * Test networks: a local HyperDHT testnet and n GrowrNodes, each with its own storage
 * directory and identity (deterministic seeds), torn down after the test: nodes first,
 * then the testnet, then the directories.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import type { Assertion } from 'brittle'
import { GrowrNode, type NodeOptions } from '../../core/node.ts'
import { createIdentity } from '../../core/identity/keyfile.ts'

export function tmpDir (t: Assertion, prefix = 'growr-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A 32-byte seed from a small number, so test identities are the same every run. */
export function seed (n: number): Uint8Array {
  const s = new Uint8Array(32)
  s[0] = n + 1
  return s
}

export interface Net { testnet: Testnet; nodes: GrowrNode[]; dirs: string[]; restart (i: number): Promise<GrowrNode>; stop (i: number): Promise<void> }

/** Starts a testnet and `n` online nodes on it. */
export async function createNet (t: Assertion, n: number, opts: Partial<NodeOptions> = {}): Promise<Net> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const dirs: string[] = []
  const nodes: GrowrNode[] = []
  const dhts: Array<{ destroy (): Promise<void> }> = []
  const start = async (i: number): Promise<GrowrNode> => {
    const dht = testnet.createNode({ host: '127.0.0.1' })
    dhts.push(dht)
    const node = new GrowrNode({ storage: dirs[i], dht, ackInterval: 200, ...opts })
    await node.ready()
    nodes[i] = node
    return node
  }
  for (let i = 0; i < n; i++) {
    dirs.push(tmpDir(t))
    createIdentity(dirs[i], { seed: seed(i) })
    await start(i)
  }
  t.teardown(async () => {
    for (const node of nodes) await node.close()
    for (const d of dhts) await d.destroy()
    await testnet.destroy()
  }, { order: -Infinity })
  return {
    testnet,
    nodes,
    dirs,
    async stop (i: number) { await nodes[i].close() },
    async restart (i: number) { await nodes[i].close(); return await start(i) }
  }
}
