// The slice of autocannon's programmatic API otbench uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'
  export interface RequestData { method?: string, path?: string, headers?: Record<string, string> }
  export interface Options {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    timeout?: number
    headers?: Record<string, string>
    requests?: Array<{ method?: string, path?: string, setupRequest?: (req: RequestData, context: unknown) => RequestData }>
  }
  export interface Result { errors: number, timeouts: number, non2xx: number }
  export interface Instance extends EventEmitter { stop (): void }
  function autocannon (opts: Options, cb?: (err: Error | null, result: Result) => void): Instance
  export default autocannon
}
