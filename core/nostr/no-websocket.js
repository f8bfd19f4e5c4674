// `#websocket` under Bare: the runtime has no WebSocket client with the browser API that
// nostr-tools needs. Constructing one fails with a clear message, which the relay layer records
// as the relay's last error; nothing else is affected. Give NostrService a WebSocket (option
// `WebSocket`) to publish from Bare.
export default class NoWebSocket {
  constructor () {
    throw new Error('no WebSocket client under Bare: publishing on Nostr needs the node run under Node, or a WebSocket implementation passed to NostrService')
  }
}
