// Every CLI command, in the order `faultline --help` lists them.
import type { Command } from '../command.ts';
import { runCommand } from './run.ts';
import { mergeReportsCommand } from './merge-reports.ts';
import { validateCommand } from './validate.ts';
import { listCommand } from './list.ts';
import { gcCommand } from './gc.ts';
import { doctorCommand } from './doctor.ts';
import { cniCommand } from './cni.ts';
import { runtimeCommand } from './runtime.ts';
import { bisectCommand } from './bisect.ts';
import { newCommand } from './new.ts';

export const commands: Command[] = [runCommand, mergeReportsCommand, bisectCommand, validateCommand, newCommand, listCommand, gcCommand, doctorCommand, cniCommand, runtimeCommand];
