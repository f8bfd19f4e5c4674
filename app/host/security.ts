/**
 * What keeps a browser tab on another site, or another user of this machine's network, from
 * driving the host: a per-start secret token, checked in constant time; an exact Host check
 * (DNS rebinding: a foreign name resolving to 127.0.0.1 still sends its own Host); an exact
 * Origin check on the WebSocket (cross-site WebSocket hijacking); and response headers that keep
 * the page out of frames and its address out of Referer.
 */
import crypto from 'node:crypto'

/** The WebSocket subprotocol the host speaks; the server selects it in its handshake. */
export const PROTOCOL = 'growr.v1'
/** Prefix of the subprotocol that carries the token: `token.<token>`. */
export const TOKEN_PREFIX = 'token.'

/** A fresh 32-byte random token, base64url (43 characters, all valid in a subprotocol name). */
export function newToken (): string {
  return crypto.randomBytes(32).toString('base64url')
}

/** Constant-time equality of two strings of any lengths (compares their SHA-256 digests). */
export function tokenEquals (given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest()
  const b = crypto.createHash('sha256').update(expected).digest()
  return crypto.timingSafeEqual(a, b)
}

/** The token offered in a `Sec-WebSocket-Protocol` header value, or null. */
export function tokenFromProtocols (header: string | undefined): string | null {
  if (!header) return null
  const offered = header.split(',').map((p) => p.trim())
  if (!offered.includes(PROTOCOL)) return null
  const carrier = offered.find((p) => p.startsWith(TOKEN_PREFIX))
  return carrier ? carrier.slice(TOKEN_PREFIX.length) : null
}

/** The `Host` header values this host answers to. */
export function allowedHosts (port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`]
}

/** The `Origin` header values allowed to open the WebSocket: exactly the host's own pages. */
export function allowedOrigins (port: number): string[] {
  return allowedHosts(port).map((h) => `http://${h}`)
}

/** Headers on every HTTP response (Content Security Policy Level 3, RFC 7034, Referrer Policy). */
export function securityHeaders (port: number): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'self'; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin'
  }
}
