/**
 * Creates a Growr network definition (core/governance/network.ts) and its founding identities.
 *
 *   node --import tsx scripts/new-network.ts --name growr-dev --founder-storage /secure/founder1 \
 *     [--founder-storage /secure/founder2 ...] [--description TEXT] --out core/governance/networks/growr-dev.json
 *
 * Each --founder-storage is a Growr storage directory: an identity (did:key) is created there
 * unless one exists (set GROWR_PASSPHRASE to encrypt it at rest), and its DID becomes a founding
 * DID. Run `growr --storage <that dir> --network <out> network certify ...` to certify governance
 * DIDs with it. Keep founder directories offline and backed up: whoever holds a founding key
 * decides who is certified on the network.
 * Prints the definition and its discovery topic.
 */
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { createIdentity, hasIdentity, loadIdentity } from '../core/identity/keyfile.ts'
import { loadNetwork } from '../core/governance/network.ts'

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    'founder-storage': { type: 'string', multiple: true },
    description: { type: 'string' },
    out: { type: 'string' }
  }
})
const dirs = values['founder-storage'] ?? []
if (!values.name || dirs.length === 0 || !values.out) {
  console.error('usage: new-network.ts --name NAME --founder-storage DIR [--founder-storage DIR ...] [--description TEXT] --out FILE')
  process.exit(2)
}
const passphrase = process.env.GROWR_PASSPHRASE || undefined
const founders = dirs.map((dir) => {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  return (hasIdentity(dir) ? loadIdentity(dir, { passphrase }) : createIdentity(dir, { passphrase })).did
})
const definition: Record<string, unknown> = { version: 1, name: values.name, founders }
if (values.description) definition.description = values.description
const network = loadNetwork(definition) // refuses what the app would refuse
fs.writeFileSync(values.out, JSON.stringify(network.definition, null, 2) + '\n')
console.log(JSON.stringify({ file: values.out, topic: network.topicHex, ...network.definition }, null, 2))
