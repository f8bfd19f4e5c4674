// The package.json `imports` map sends these to bare-fs/bare-path/bare-os under Bare and to
// Node's modules elsewhere; for the type checker they are Node's.
declare module '#fs' { import fs = require('fs'); export = fs }
declare module '#path' { import path = require('path'); export = path }
declare module '#os' { import os = require('os'); export = os }
declare module '#process' { import process = require('process'); export = process }

declare module 'brittle' {
  export interface Assertion {
    is (a: unknown, b: unknown, msg?: string): void
    not (a: unknown, b: unknown, msg?: string): void
    ok (v: unknown, msg?: string): void
    absent (v: unknown, msg?: string): void
    alike (a: unknown, b: unknown, msg?: string): void
    unlike (a: unknown, b: unknown, msg?: string): void
    pass (msg?: string): void
    fail (msg?: string): void
    exception: ((fn: unknown, expected?: unknown, msg?: string) => Promise<void>) & { all (fn: unknown, expected?: unknown, msg?: string): Promise<void> }
    execution (fn: unknown, msg?: string): Promise<void>
    plan (n: number): void
    comment (msg: string): void
    teardown (fn: () => unknown, opts?: { order?: number }): void
    timeout (ms: number): void
    test (name: string, fn: (t: Assertion) => unknown): Promise<void>
  }
  interface TestFn {
    (name: string, fn: (t: Assertion) => unknown): void
    (name: string, opts: { timeout?: number; skip?: boolean }, fn: (t: Assertion) => unknown): void
    skip (name: string, fn: (t: Assertion) => unknown): void
    solo (name: string, fn: (t: Assertion) => unknown): void
  }
  const test: TestFn
  export default test
}
declare module '#text-encoding' {}
declare module '#fetch' {}
