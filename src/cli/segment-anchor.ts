/**
 * The server's side of an offline segment check, for `roost verify --file <segment> --checkpoint server` and
 * `roost segments`: the org's segments (GET /v1/orgs/{org}/segments), and what a segment's end is checked against:
 * the actor's checkpoint as its verify states it, and the start of the next segment when the checkpoint is further on.
 * No Node APIs (only the client's fetch), so the workers tests run it against the Worker itself.
 */
import { type ActorPath, segmentOfKind } from "./actors.ts";
import type { RoostClient } from "./client.ts";
import type { ServerChainReport } from "./inspect.ts";
import { type Anchor, type SegmentInfo, segmentHeaderOf } from "./segment-check.ts";

export interface SegmentListing {
	name: string;
	actor: { kind: string; id: string };
	fromSeq: number;
	toSeq: number;
	size: number;
	uploaded: number;
}

export const segmentsPath = (client: RoostClient) => `/v1/orgs/${encodeURIComponent(client.org)}/segments`;

/** One page of the org's segments, in key order. */
export function listSegments(client: RoostClient, query: { after?: string; limit?: number } = {}) {
	return client.get<{ segments: SegmentListing[]; next: string | null }>(segmentsPath(client), query);
}

/** Every segment of the org, page by page. */
export async function* allSegments(client: RoostClient): AsyncGenerator<SegmentListing> {
	let after: string | undefined;
	for (;;) {
		const page = await listSegments(client, { after, limit: 1000 });
		yield* page.segments;
		if (page.next === null) return;
		after = page.next;
	}
}

/** The actor a segment's header names, as the CLI's paths name it (null for a kind the CLI does not read). */
function actorPathOf(segment: SegmentInfo): ActorPath | null {
	if (segment.actor.kind === "org") return { kind: "org" };
	const kind = segmentOfKind(segment.actor.kind);
	return kind ? { kind, id: segment.actor.id } : null;
}

/** The actor's checkpoint from the server, and the header of the segment after this one when the checkpoint is further on. */
export async function serverAnchor(client: RoostClient, segment: SegmentInfo): Promise<Anchor> {
	if (segment.actor.org !== client.org) return { checkpoint: null, next: null };
	const actor = actorPathOf(segment);
	if (!actor) return { checkpoint: null, next: null };
	const report = await client.get<ServerChainReport & { checkpoint?: { seq: number; hash: string } }>(client.path(actor, "/verify"));
	const checkpoint = report.checkpoint ?? null;
	if (!checkpoint || checkpoint.seq <= segment.toSeq) return { checkpoint };
	for await (const listed of allSegments(client)) {
		const same = listed.actor.kind === segment.actor.kind && listed.actor.id === segment.actor.id;
		if (!same || listed.fromSeq !== segment.toSeq + 1) continue;
		const res = await client.open("GET", `${segmentsPath(client)}/${encodeURIComponent(listed.name)}`);
		const first = await firstLine(res);
		return { checkpoint, next: { name: listed.name, segment: first === null ? null : segmentHeaderOf(first) } };
	}
	return { checkpoint, next: null };
}

async function firstLine(res: Response): Promise<string | null> {
	if (!res.body) return null;
	const decoder = new TextDecoder();
	let text = "";
	const reader = res.body.getReader();
	for (;;) {
		const { done, value } = await reader.read();
		if (value) text += decoder.decode(value, { stream: true });
		const end = text.indexOf("\n");
		if (end >= 0 || done) {
			await reader.cancel();
			return end >= 0 ? text.slice(0, end) : text || null;
		}
	}
}
