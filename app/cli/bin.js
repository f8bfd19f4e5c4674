#!/usr/bin/env node
// The `growr` command: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api'
register()
await import('./growr.ts')
