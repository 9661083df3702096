/** `roost parked [list|retry ID|discard ID]`: the org's parked work (docs/operations.md), through the API. */
import type { RoostClient } from "./client.ts";
import { UsageError } from "./errors.ts";
import type { CliIo } from "./output.ts";

interface ParkedItem {
	id: string;
	actor: { kind: string; id: string };
	work: string;
	name: string;
	reason: string;
	attempts: number;
	lastError: string;
	ageMs: number;
}
interface ParkedPage {
	items: ParkedItem[];
	next: number | null;
	total: number;
}

const age = (ms: number): string =>
	ms < 60_000 ? `${Math.round(ms / 1000)}s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)}m` : `${(ms / 3_600_000).toFixed(1)}h`;

export async function parked(
	client: RoostClient,
	args: readonly string[],
	options: { after?: number; limit?: number; json: boolean },
	io: CliIo,
): Promise<void> {
	const [action = "list", id] = args;
	const base = `/v1/orgs/${encodeURIComponent(client.org)}/parked`;
	if (action === "list") {
		const page = await client.get<ParkedPage>(base, { after: options.after, limit: options.limit });
		if (options.json) return void io.stdout.write(`${JSON.stringify(page)}\n`);
		io.stdout.write(
			`${page.total} parked in org ${client.org}${page.items.length < page.total ? ` (showing ${page.items.length})` : ""}\n`,
		);
		for (const item of page.items) {
			io.stdout.write(
				`${item.id}  ${item.actor.kind}/${item.actor.id}  ${item.work} ${item.name}  ${item.reason} after ${item.attempts} attempts, ${age(item.ageMs)} ago\n` +
					`    ${item.lastError}\n`,
			);
		}
		if (page.next !== null) io.stdout.write(`more: roost parked list --after ${page.next}\n`);
		return;
	}
	if (action !== "retry" && action !== "discard") throw new UsageError(`parked takes list, retry ID or discard ID, not "${action}"`);
	if (!id) throw new UsageError(`parked ${action} needs an item id (roost parked list shows them)`);
	const result = await client.post<{ id: string; status: string; repeated: boolean }>(`${base}/${encodeURIComponent(id)}/${action}`, {});
	if (options.json) return void io.stdout.write(`${JSON.stringify(result)}\n`);
	io.stdout.write(`${result.id}: ${result.status}${result.repeated ? " (already; nothing new recorded)" : ""}\n`);
}
