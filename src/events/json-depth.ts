/**
 * How deeply a client's JSON may nest. JSON.parse takes any depth, but code that walks a value recursively (schema
 * checks, structured clone across RPC, JSON.stringify) overflows the stack a few thousand levels down, which would
 * turn a hostile body into a 500. Values a client sends as free-form JSON are refused past this depth instead.
 * Pure module.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests objects or arrays more than `max` levels deep (a scalar is depth 0). Iterative: never overflows. */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
	const stack: [unknown, number][] = [[value, 0]];
	for (let next = stack.pop(); next; next = stack.pop()) {
		const [node, depth] = next;
		if (node === null || typeof node !== "object") continue;
		if (depth + 1 > max) return true;
		for (const child of Array.isArray(node) ? node : Object.values(node))
			if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
	}
	return false;
}

export const TOO_DEEP = `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`;
