// Every CLI command, in the order `faultline --help` lists them.
import type { Command } from '../command.ts';

export const commands: Command[] = [];
