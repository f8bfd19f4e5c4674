import type { ReactNode } from 'react'
import { CopyButton } from './Copy.tsx'
import { QrCode } from './QrCode.tsx'

/**
 * Where and how to pay: the destination (an address or an invoice) in full, the payment URI a
 * wallet opens (BIP-21 `bitcoin:` or `lightning:`), both copyable, and the URI as a QR code to scan
 * with a phone. `uri` must come from the URI builders (core/wallet/bip21.ts), which only ever
 * produce `bitcoin:` / `lightning:` URIs: it becomes a link.
 * Test ids: `<testid>-target`, `<testid>-uri`, `<testid>-qr`, `<testid>-copy-uri`.
 */
export function PayRequest ({ heading, target, uri, qrLabel, children, testid }: { heading: ReactNode; target: string; uri: string; qrLabel: string; children?: ReactNode; testid: string }) {
  const scheme = /^(bitcoin|lightning):/i.exec(uri)
  return (
    <div className='pay-request' data-testid={testid}>
      <div className='stack pay-request-text'>
        <div className='small'>{heading}</div>
        <code className='mono' data-testid={testid + '-target'} data-value={target}>{target}</code>
        <div className='row'>
          <CopyButton text={target} label='Copy' testid={testid + '-copy-target'} />
          <CopyButton text={uri} label='Copy payment URI' testid={testid + '-copy-uri'} />
          {scheme && <a className='small' href={uri}>Open in a wallet</a>}
        </div>
        <code className='mono small muted' data-testid={testid + '-uri'} data-value={uri}>{uri}</code>
        {children}
      </div>
      <QrCode text={uri} label={qrLabel} testid={testid + '-qr'} />
    </div>
  )
}
