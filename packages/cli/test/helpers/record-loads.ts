// Preloaded with `node --import` by the start-up tests: records every module the process
// resolves (import and require, through the synchronous module hooks of Node >= 22.15) and
// prints them to stderr at exit as `LOADED [urls]`.
import module from 'node:module'

const seen = new Set<string>()
module.registerHooks({
  resolve (specifier, context, nextResolve) {
    const r = nextResolve(specifier, context)
    seen.add(r.url)
    return r
  }
})
process.on('exit', () => {
  process.stderr.write(`\nLOADED ${JSON.stringify([...seen])}\n`)
})
