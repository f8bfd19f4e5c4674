/**
 * URLSearchParams.prototype.sort where the runtime lacks it. Bare's URL (bare-url) has no sort,
 * and nostr-tools normalises every relay URL with `url.searchParams.sort()` (relay.js
 * normalizeURL), so without it no relay can even be constructed under Bare ("Invalid URL").
 * Installs the WHATWG behaviour (a stable sort of the pairs by name, in UTF-16 code units) only
 * when the method is missing; under Node this does nothing. Imported for its effect by
 * core/nostr/relays.ts before nostr-tools' relay.
 */
const proto = (globalThis as unknown as { URLSearchParams?: { prototype: Record<string, unknown> } }).URLSearchParams?.prototype

interface MinimalParams { toString (): string; delete (name: string): void; append (name: string, value: string): void }

if (proto && typeof proto.sort !== 'function') {
  Object.defineProperty(proto, 'sort', {
    configurable: true,
    writable: true,
    value: function sort (this: MinimalParams): void {
      const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
      const pairs = this.toString().split('&').filter(Boolean).map((kv) => {
        const i = kv.indexOf('=')
        return i < 0 ? [decode(kv), ''] : [decode(kv.slice(0, i)), decode(kv.slice(i + 1))]
      })
      if (pairs.length < 2) return
      // Array.prototype.sort is stable (ES2019): pairs with the same name keep their order
      const sorted = [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      for (const name of new Set(pairs.map((p) => p[0]))) this.delete(name)
      for (const [name, value] of sorted) this.append(name, value)
    }
  })
}

export {}
