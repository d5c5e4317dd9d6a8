/**
 * Blessed addresses (`-A`, `access.stats`, `access.proxy`, `access.admin`, ...): exact addresses or
 * CIDR networks, IPv4 and IPv6, each with permission bits (config.ts MAY_*). Looked up only off
 * the hot path (stats, admin, sync) or when a request carries X-Forwarded-For.
 */
import { type Net, netContains, parseNet } from '@otd/proto'
import type { Blessing } from '../config.js'

export class Blessings {
  private readonly nets: Net[] = []
  private readonly perms: number[] = []

  constructor (list: readonly Blessing[]) {
    for (const b of list) {
      const net = parseNet(b.net)
      if (net === null) continue // resolveOptions has rejected these already
      this.nets.push(net)
      this.perms.push(b.perms)
    }
  }

  get size (): number { return this.nets.length }

  /** The permissions of (`family`, `ip`): the union over every matching entry. */
  permsOf (family: number, ip: ArrayLike<number>): number {
    let p = 0
    for (let i = 0; i < this.nets.length; i++) {
      if (netContains(this.nets[i]!, family, ip)) p |= this.perms[i]!
    }
    return p
  }

  may (family: number, ip: ArrayLike<number>, perm: number): boolean {
    return (this.permsOf(family, ip) & perm) === perm
  }
}
