import { Flags } from '@oclif/core'

export const listFlag = Flags.string({
  char: 'l',
  summary: 'Which list: white (allow-list) or black (deny-list). Default: the only one configured.',
  options: ['white', 'black']
})

export const fileFlag = Flags.string({
  char: 'f',
  summary: 'Read info_hashes from this file (access-list format: one per line, # comments); - for stdin. Repeatable.',
  multiple: true,
  helpValue: '<file>'
})
