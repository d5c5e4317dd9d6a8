/**
 * Errors with stable codes. Codes are never reused for another meaning.
 */
export class OtdError extends Error {
  constructor (readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'OtdError'
  }
}

/** A listener could not be bound (address in use, no permission, unknown address). */
export const OT_ERR_BIND = 'OT_ERR_BIND'
/** A configuration value or command-line flag is invalid. */
export const OT_ERR_CONFIG = 'OT_ERR_CONFIG'
