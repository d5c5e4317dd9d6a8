/**
 * @otd/cli: otctl, the operator CLI for a running otd (bin/otctl.js runs the oclif commands in
 * src/commands). The typed admin client and the error codes are exported for scripts written in
 * TypeScript; everything else is the command line.
 */
export { OtdClient, parseBaseUrl, type Status, type ChangeReport, type CheckResult, type ReloadReport, type ListName } from './lib/otd-client.js'
export * from './errors.js'
