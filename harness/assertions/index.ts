// Every assertion/invariant kind a scenario may use. Add one: write its file, list it here.
import type { Schema } from '../schema/dsl.ts';
import type { AssertionDef } from './registry.ts';
import { ipHeadroom } from './ip-headroom.ts';
import { noLeakedReservations } from './no-leaked-reservations.ts';
import { noOrphanDevices } from './no-orphan-devices.ts';
import { podsRunning } from './pods-running.ts';
import { staleStateClearedOnBoot } from './stale-state-cleared-on-boot.ts';
import { reservationAccounting } from './reservation-accounting.ts';
import { reservationsWithinCapacity } from './reservations-within-capacity.ts';
import { noDuplicateAddresses } from './no-duplicate-addresses.ts';
import { configNotNested } from './config-not-nested.ts';
import { delSucceeds } from './del-succeeds.ts';
import { noOrphanIptables } from './no-orphan-iptables.ts';
import { cacheValid } from './cache-valid.ts';
import { sandboxesReconciled } from './sandboxes-reconciled.ts';
import { subnetAccounting } from './subnet-accounting.ts';
import { podsReadyWithin } from './pods-ready-within.ts';

export const assertions: AssertionDef<any>[] = [noLeakedReservations, podsRunning, ipHeadroom, noOrphanDevices, staleStateClearedOnBoot, delSucceeds, noOrphanIptables, cacheValid, reservationAccounting, reservationsWithinCapacity, noDuplicateAddresses, configNotNested, sandboxesReconciled, subnetAccounting, podsReadyWithin];

export function assertionSchemas(): Record<string, Schema<any>> {
  return Object.fromEntries(assertions.map((a) => [a.name, a.params]));
}

export function getAssertion(name: string): AssertionDef<any> {
  const a = assertions.find((x) => x.name === name);
  if (!a) throw new Error(`no assertion named ${name}`);
  return a;
}
