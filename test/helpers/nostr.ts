/** What the Nostr tests share: services torn down before their nodes, a relay per test, a stranger's client. */
import type { Assertion } from 'brittle'
import WebSocket from 'ws'
import { verifyEvent, type Event } from 'nostr-tools/pure'
import { AbstractRelay } from 'nostr-tools/abstract-relay'
import { startLocalRelay, type LocalRelay } from '../../app/demo/nostr-relay.ts'
import type { Services } from '../../core/services/services.ts'

/** Services for every node, closed before the nodes (registered before the net's teardown). @returns a function registering one */
export function servicesFor (t: Assertion): (s: Services) => Services {
  const all: Services[] = []
  t.teardown(async () => { for (const s of all.reverse()) await s.close().catch(() => {}) }, { order: -Infinity })
  return (s) => { all.push(s); return s }
}

/** A real relay (app/demo/nostr-relay.ts) closed at the end of the test. */
export async function relayFor (t: Assertion): Promise<LocalRelay> {
  const relay = await startLocalRelay()
  t.teardown(() => relay.close())
  return relay
}

/** Publishes as someone who is not the node (the LNURL server, a stranger), with a plain nostr-tools client. @returns the relay's OK message */
export async function publishRaw (url: string, event: Event): Promise<string> {
  const relay = await AbstractRelay.connect(url, { verifyEvent, websocketImplementation: WebSocket as never })
  try { return await relay.publish(event) } finally { relay.close() }
}
