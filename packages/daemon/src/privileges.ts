/**
 * Privilege drop after binding (reference §11). Started as root, otd switches to `-u` (default
 * `nobody`) with that user's primary group and no supplementary groups, and refuses to go on if
 * it is still root afterwards. Node has no chroot: `-d` only changes the working directory, and
 * docs/systemd/otd.service is the confinement we recommend instead (a read-only file system,
 * private /tmp, no new privileges, a dynamic user...). Started as another user, otd only changes
 * directory; it cannot switch users and says so.
 */
import { execFileSync } from 'node:child_process'
import { OT_ERR_CONFIG, OtdError } from './errors.js'

export interface DropReport { chdir: string | null, user: string | null, uid: number, gid: number, note?: string }

function primaryGid (user: string): number {
  try {
    const out = execFileSync('id', ['-g', '--', user], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim()
    if (/^\d+$/.test(out)) return Number(out)
  } catch { /* unknown user: reported by setuid below */ }
  return -1
}

export function dropPrivileges (rootdir: string, user: string): DropReport {
  if (rootdir !== '') {
    try {
      process.chdir(rootdir)
    } catch (err) {
      throw new OtdError(OT_ERR_CONFIG, `cannot change to root directory ${rootdir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    }
  }
  const chdir = rootdir === '' ? null : process.cwd()
  const getuid = process.getuid
  if (getuid === undefined || process.setuid === undefined || process.setgid === undefined) {
    return { chdir, user: null, uid: -1, gid: -1, note: 'this platform has no user switching' }
  }
  if (getuid() !== 0) {
    const note = user !== 'nobody' ? `not started as root: -u ${user} has no effect` : undefined
    return { chdir, user: null, uid: getuid(), gid: process.getgid?.() ?? -1, ...(note !== undefined ? { note } : {}) }
  }
  if (user === 'root' || user === '0') throw new OtdError(OT_ERR_CONFIG, 'refusing to run as root: give -u an unprivileged user')
  const numeric = /^\d+$/.test(user)
  // A numeric uid gets its passwd entry's primary group too; without an entry, the group of the same number.
  let gid = primaryGid(user)
  if (gid < 0 && numeric) gid = Number(user)
  try {
    if (process.setgroups !== undefined) process.setgroups(gid >= 0 ? [gid] : [])
    if (gid >= 0) process.setgid(gid)
    process.setuid(numeric ? Number(user) : user)
  } catch (err) {
    throw new OtdError(OT_ERR_CONFIG, `cannot switch to user ${user}: ${err instanceof Error ? err.message : String(err)}; refusing to keep running as root`)
  }
  if (getuid() === 0 || process.geteuid?.() === 0) throw new OtdError(OT_ERR_CONFIG, `still root after switching to ${user}; refusing to run`)
  return { chdir, user, uid: getuid(), gid: process.getgid?.() ?? -1 }
}
