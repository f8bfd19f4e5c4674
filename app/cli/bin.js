#!/usr/bin/env node
// The `growr` command: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api'
// whatever the CLI and its node create starts private (RocksDB files included); core also sets
// modes explicitly, for Bare, which has no umask
process.umask(0o077)
register()
await import('./growr.ts')
