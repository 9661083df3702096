/**
 * Every kind's definition as the kernel and the readers use it: its catalog plus the kernel's events
 * (src/events/kernel.ts), and its evolve, which kernel events pass by unchanged. Pure.
 */
import { EventCatalog } from "../events/catalog.ts";
import { isKernelEventType, KERNEL_EVENTS } from "../events/kernel.ts";
import type { ActorDefinition } from "./definition.ts";

const wrapped = new WeakMap<ActorDefinition<unknown>, ActorDefinition<unknown>>();
const withKernel = new WeakSet<ActorDefinition<unknown>>();

/** The definition that also accepts kernel events; the same object for the same definition. */
export function withKernelEvents<S>(definition: ActorDefinition<S>): ActorDefinition<S> {
	const raw = definition as ActorDefinition<unknown>;
	if (withKernel.has(raw)) return definition;
	const known = wrapped.get(raw);
	if (known) return known as ActorDefinition<S>;
	const own = definition.catalog.types.flatMap((type) => definition.catalog.get(type) ?? []);
	const result: ActorDefinition<S> = {
		...definition,
		catalog: new EventCatalog([...own, ...KERNEL_EVENTS]),
		evolve: (state, event) => (isKernelEventType(event.type) ? state : definition.evolve(state, event)),
	};
	wrapped.set(raw, result as ActorDefinition<unknown>);
	withKernel.add(result as ActorDefinition<unknown>);
	return result;
}
