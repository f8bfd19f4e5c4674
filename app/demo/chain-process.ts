/**
 * Starting a demo chain (bcoin, anvil): a child process on free loopback ports, a JSON-RPC client
 * for it, a wait until it answers, and a close that kills it. bcoin.ts and anvil.ts keep only
 * their arguments and their readiness check.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'

/** A running chain process. */
export interface ChainProcess {
  /** JSON-RPC endpoint, no credentials */
  url: string
  /** one JSON-RPC call; throws `<name> <method>: <message>` when the chain answers an error */
  rpc<T = unknown> (method: string, params?: unknown[]): Promise<T>
  /** kills the process (SIGKILL: it keeps nothing worth flushing) and waits for its exit */
  close (): Promise<void>
}

/** A free TCP port on 127.0.0.1 (free when asked: the chain binds it a moment later). */
export async function freeTcpPort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)) })
  })
}

/**
 * Spawns `command args` and polls `ready(rpc)` until it resolves.
 * @param options.name used in error messages ('bcoin', 'anvil')
 * @param options.port the loopback HTTP port its JSON-RPC listens on
 * @param options.jsonrpc the protocol version it speaks ('1.0' Bitcoin Core style, '2.0' Ethereum)
 * @param options.authorization an Authorization header value, when its RPC needs one
 * @param options.ready throws until the chain is ready (its RPC answers what the demo needs)
 * @param options.timeoutMs how long to wait for ready; options.pollMs between tries
 * @throws Error `<name> exited: <stderr>` when it exits first, `<name> did not answer in N s` after the timeout (then it is killed)
 */
export async function startChainProcess (options: {
  name: string
  command: string
  args: string[]
  port: number
  jsonrpc: '1.0' | '2.0'
  authorization?: string
  ready: (rpc: ChainProcess['rpc']) => Promise<void>
  timeoutMs: number
  pollMs: number
}): Promise<ChainProcess> {
  const { name } = options
  const child: ChildProcess = spawn(options.command, options.args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  let exited = false
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => { exited = true; resolve() })
    // a binary that cannot be spawned emits 'error' and never 'exit'
    child.once('error', (err) => { stderr += String(err); exited = true; resolve() })
  })
  const url = `http://127.0.0.1:${options.port}/`
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (options.authorization) headers.authorization = options.authorization
  let id = 0
  const rpc = async <T = unknown>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: options.jsonrpc, id: ++id, method, params }) })
    const body = await res.json() as { result: T, error?: { message: string } | null }
    if (body.error) throw new Error(`${name} ${method}: ${body.error.message}`)
    return body.result
  }
  const close = async (): Promise<void> => { if (!exited) { child.kill('SIGKILL'); await exit } }
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (exited) throw new Error(`${name} exited: ${stderr.slice(-2000)}`)
    try { await options.ready(rpc); break } catch (err) {
      if (Date.now() > deadline) { await close(); throw new Error(`${name} did not answer in ${options.timeoutMs / 1000} s: ${String(err)}`) }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs))
    }
  }
  return { url, rpc, close }
}
