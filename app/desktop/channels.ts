/**
 * The two IPC channels between the desktop window and the main process. Their own module so the
 * preload bundle (which must stay tiny and self-contained under the sandbox) carries nothing else.
 */

/** renderer -> main: invoke(REQUEST_CHANNEL, method, params) -> { result } | { error } */
export const REQUEST_CHANNEL = 'growr:request'
/** main -> renderer: send(EVENT_CHANNEL, { event, data }) */
export const EVENT_CHANNEL = 'growr:event'
