/** Assertions on coded errors (GrowrError and anything else with a `code`), shared by the tests. */
import type { Assertion } from 'brittle'

/** Asserts that `fn` throws synchronously an error whose `code` is `code`. */
export function throwsCode (t: Assertion, fn: () => unknown, code: string, msg: string): void {
  try {
    fn()
    t.fail(`${msg}: expected ${code}, nothing thrown`)
  } catch (err) {
    t.is((err as { code?: string }).code, code, `${msg} (${(err as Error).message})`)
  }
}

/** Asserts that `p` (or what `p` returns) rejects with an error whose `code` is `code`. */
export async function rejectsCode (t: Assertion, p: Promise<unknown> | (() => unknown), code: string, msg: string): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p)
    t.fail(`${msg}: expected ${code}, nothing thrown`)
  } catch (err) {
    t.is((err as { code?: string }).code, code, `${msg} (${(err as Error).message})`)
  }
}
