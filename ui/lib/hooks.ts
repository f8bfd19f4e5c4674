/**
 * React hooks over the contract client: `useQuery` reads and re-reads when the core pushes an
 * event that may change the answer (no polling); `useAction` runs one user action with its
 * progress and its failure in plain words.
 */
import { useCallback, useEffect, useRef, useState } from 'react'
import { ContractError, listen, toContractError, type EventName } from './contract-client.ts'

export interface Query<T> {
  data: T | undefined
  error: ContractError | null
  loading: boolean
  reload (): void
}

/**
 * Runs `fetch` now, whenever `deps` change, and whenever one of `events` arrives. A fetch that
 * finishes after a newer one started is ignored. Keeps the last data while re-fetching.
 * @param fetch returns the data; its rejection becomes `error` (a ContractError)
 * @param events the SessionEvents that invalidate this data (e.g. 'book.changed')
 */
export function useQuery<T> (fetch: () => Promise<T>, deps: unknown[], events: EventName[] = []): Query<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<ContractError | null>(null)
  const [loading, setLoading] = useState(true)
  const seq = useRef(0)
  const fetchRef = useRef(fetch)
  fetchRef.current = fetch

  const run = useCallback(() => {
    const mine = ++seq.current
    setLoading(true)
    fetchRef.current().then(
      (d) => { if (mine === seq.current) { setData(d); setError(null); setLoading(false) } },
      (e) => { if (mine === seq.current) { setError(toContractError(e)); setLoading(false) } }
    )
  }, [])

  // `deps` are the caller's: the fetch itself is read through a ref, so it never needs to be one
  useEffect(() => { run(); return () => { seq.current++ } }, deps)

  const eventKey = events.join(',')
  useEffect(() => {
    const offs = events.map((e) => listen(e, () => run()))
    return () => { for (const off of offs) off() }
  }, [eventKey, run])

  return { data, error, loading, reload: run }
}

export interface Action<A extends unknown[], T> {
  run (...args: A): Promise<T | undefined>
  running: boolean
  error: ContractError | null
  /** the last successful result */
  result: T | undefined
  clear (): void
}

/**
 * Wraps one user action: `running` while it runs (for a spinner and a disabled button), `error`
 * when it failed (never thrown further), `result` after it succeeded.
 */
export function useAction<A extends unknown[], T> (fn: (...args: A) => Promise<T>): Action<A, T> {
  const [running, setRunning] = useState(false)
  const [error, setError] = useState<ContractError | null>(null)
  const [result, setResult] = useState<T | undefined>(undefined)
  const fnRef = useRef(fn)
  fnRef.current = fn
  const mounted = useRef(true)
  useEffect(() => { mounted.current = true; return () => { mounted.current = false } }, [])

  const run = useCallback(async (...args: A) => {
    setRunning(true)
    setError(null)
    try {
      const r = await fnRef.current(...args)
      if (mounted.current) setResult(r)
      return r
    } catch (err) {
      if (mounted.current) setError(toContractError(err))
      return undefined
    } finally {
      if (mounted.current) setRunning(false)
    }
  }, [])
  const clear = useCallback(() => { setError(null); setResult(undefined) }, [])
  return { run, running, error, result, clear }
}
