/** The outcome of a pure transition: the next state, or a rejection with a reason in plain words. */
export type Result<T> = { ok: true; value: T } | { ok: false; reason: string }

/** @returns an accepted result carrying `value` */
export function accept<T> (value: T): Result<T> { return { ok: true, value } }

/** @returns a rejected result carrying `reason` (shown to users and written to the audit log) */
export function reject<T = never> (reason: string): Result<T> { return { ok: false, reason } }
