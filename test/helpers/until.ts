/**
 * Waits until `check` holds, asking again every `pollMs`.
 * @param what said in the error when it times out
 * @param ms how long to wait, ms (default 30 000)
 * @param pollMs how often to ask, ms (default 100)
 * @throws Error `timed out: <what>` after `ms`
 */
export async function until (what: string, check: () => Promise<boolean> | boolean, ms = 30_000, pollMs = 100): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}
