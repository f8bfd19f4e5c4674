/**
 * Import in any module that calls the global `fetch` (the chain backends' JSON-RPC clients):
 * Bare 1.31 has none, so under Bare this installs bare-fetch's; under Node it does nothing.
 */
import '#fetch'
