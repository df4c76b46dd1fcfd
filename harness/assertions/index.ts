// Every assertion/invariant kind a scenario may use. Add one: write its file, list it here.
import type { Schema } from '../scenario/schema-dsl.ts';
import type { AssertionDef } from './registry.ts';

export const assertions: AssertionDef<any>[] = [];

export function assertionSchemas(): Record<string, Schema<any>> {
  return Object.fromEntries(assertions.map((a) => [a.name, a.params]));
}

export function getAssertion(name: string): AssertionDef<any> {
  const a = assertions.find((x) => x.name === name);
  if (!a) throw new Error(`no assertion named ${name}`);
  return a;
}
