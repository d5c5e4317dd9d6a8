/**
 * One cached clock for the whole tracker. Hot paths read `clock.seconds` (a field, not a call),
 * updated once a second by an unref'd timer, instead of calling Date.now() per packet.
 * Tests inject a {@link ManualClock} and move time explicitly.
 */
export interface Clock {
  /** Whole seconds since the Unix epoch. */
  readonly seconds: number
  start (): void
  stop (): void
}

/** The real clock, refreshed every second. */
export class SystemClock implements Clock {
  seconds = Math.floor(Date.now() / 1000)
  private timer: NodeJS.Timeout | null = null

  start (): void {
    if (this.timer !== null) return
    this.seconds = Math.floor(Date.now() / 1000)
    this.timer = setInterval(() => { this.seconds = Math.floor(Date.now() / 1000) }, 1000)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}

/** A clock that only moves when told to (tests). */
export class ManualClock implements Clock {
  constructor (public seconds = 1_700_000_000) {}
  advance (seconds: number): void { this.seconds += Math.floor(seconds) }
  start (): void {}
  stop (): void {}
}
