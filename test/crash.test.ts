import test from 'brittle'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import path from 'node:path'
import { tmpDir } from './helpers/net.ts'

const CHILD = fileURLToPath(new URL('./helpers/crash-child.ts', import.meta.url))

/** Runs the child until it has acked something and a random moment has passed, then SIGKILLs it. @returns the op ids it acknowledged */
function runAndKill (dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    const acked: string[] = []
    let buf = ''
    let err = ''
    let armed = false
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d
      let nl: number
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (line.startsWith('ack ')) acked.push(...line.slice(4).split(' '))
        if (line === 'ready' && !armed) {
          armed = true
          setTimeout(() => child.kill('SIGKILL'), 20 + Math.floor(Math.random() * 400))
        }
      }
    })
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked)
      else reject(new Error(`child exited with ${code}: ${err}`))
    })
  })
}

test('crash - SIGKILL at random moments 20 times loses no acknowledged op and the store reopens cleanly', { timeout: 240_000 }, async (t) => {
  const dir = tmpDir(t)
  const acked: string[] = []
  for (let i = 0; i < 20; i++) acked.push(...await runAndKill(dir))
  t.ok(acked.length > 20, `${acked.length} ops acknowledged across 20 kills`)
  const ackFile = path.join(dir, 'acked.txt')
  fs.writeFileSync(ackFile, acked.join('\n'))
  const verify = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, '--verify', ackFile], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  verify.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  verify.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
  const code = await new Promise((resolve) => verify.on('exit', resolve))
  t.is(code, 0, 'the store opens and closes cleanly after the crashes ' + err)
  const r = JSON.parse(out)
  t.is(r.acked, acked.length)
  t.alike(r.missing, [], 'every acknowledged op is in the view')
  t.is(r.rejected, 0, 'and every one was accepted')
  t.ok(r.ops >= acked.length + 1, `${r.ops} ops applied in all`)
})
