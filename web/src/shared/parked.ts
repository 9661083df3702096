/**
 * The org's parked work as the pages read and act on it (GET /v1/orgs/{org}/parked, POST .../parked/{id}/retry and
 * .../discard; docs/operations.md, "Parked work"). The dashboard's Operations view and the console's Parked work view
 * both use it.
 */
import type { RoostApi } from "./api.ts";

/** One item as `GET .../parked` lists it. */
export interface ParkedItem {
	/** `<kind>.<actor id>.<seq of its kernel.work_parked event>`. */
	id: string;
	actor: { kind: string; id: string };
	work: "outbox" | "timer" | "dead_letter";
	/** The outbox message's id, or the timer's name. */
	name: string;
	reason: "attempts" | "invalid" | "dead_letter";
	attempts: number;
	lastError: string;
	parkedAt: number;
	ageMs: number;
}

export interface ParkedPage {
	items: ParkedItem[];
	/** The `after` of the next page; null on the last. */
	next: number | null;
	total: number;
}

export type ParkedAction = "retry" | "discard";

export const parkedPage = (api: RoostApi, after: number, limit: number): Promise<ParkedPage> =>
	api.get<ParkedPage>(api.orgPath("/parked"), { after, limit });

export const actOnParked = (api: RoostApi, id: string, how: ParkedAction): Promise<{ status: string; repeated: boolean }> =>
	api.post(api.orgPath(`/parked/${encodeURIComponent(id)}/${how}`), {});

/** The seq of the item's `kernel.work_parked` event in its actor's log (the last part of its id). */
export const parkedSeq = (id: string): number => Number(id.slice(id.lastIndexOf(".") + 1));

/** An age in the largest unit that reads well: "12 s", "5 min", "1.5 h"; "—" for none. */
export const age = (ms: number | null): string =>
	ms === null
		? "—"
		: ms < 60_000
			? `${Math.round(ms / 1000)} s`
			: ms < 3_600_000
				? `${Math.round(ms / 60_000)} min`
				: `${(ms / 3_600_000).toFixed(1)} h`;
