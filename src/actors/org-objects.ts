/**
 * The one place that owns R2 keys. Every read and write of FRAMES and ARCHIVE goes through an
 * `OrgObjects` for one owner (an org, or a camera of an org): keys are built under the owner's
 * prefix, each object carries its owner in customMetadata, and a key outside the prefix or an
 * object whose metadata names another owner is refused. So a key that came from an event (which
 * an import can forge) can never reach another org's or another camera's objects.
 */
import type { ImageContentType } from "../vision/image-format.ts";
import { formatOf } from "../vision/image-format.ts";

/** Who owns the objects under a prefix: `<area>/<org>/` or `<area>/<org>/<camera>/`. */
export interface ObjectOwner {
	org: string;
	camera?: string;
}

export type ObjectRead = { ok: true; object: R2ObjectBody } | { ok: false; reason: string };

export type ObjectArea = "frames" | "interactions" | "segments" | "logs";

/** Path ids cannot hold `/` (see identity.ts), so a segment that does is refused rather than trusted. */
const SEGMENT = /^[^/]+$/;

/** `<area>/<org>/[<camera>/]`; throws on a segment that could climb out of it. */
export function ownerPrefix(area: ObjectArea, owner: ObjectOwner): string {
	const segments = [area, owner.org, ...(owner.camera === undefined ? [] : [owner.camera])];
	for (const segment of segments) if (!SEGMENT.test(segment)) throw new Error(`an R2 key segment cannot be "${segment}"`);
	return `${segments.join("/")}/`;
}

/** The key of object `name` of `owner`. */
export function ownerKey(area: ObjectArea, owner: ObjectOwner, name: string): string {
	if (!SEGMENT.test(name)) throw new Error(`an R2 object name cannot be "${name}"`);
	return ownerPrefix(area, owner) + name;
}

export class OrgObjects {
	readonly prefix: string;

	constructor(
		private readonly bucket: R2Bucket,
		private readonly area: ObjectArea,
		private readonly owner: ObjectOwner,
	) {
		this.prefix = ownerPrefix(area, owner);
	}

	/** The key of `name` under this owner's prefix. */
	keyOf(name: string): string {
		return ownerKey(this.area, this.owner, name);
	}

	/** Whether `key` is one of this owner's: directly under its prefix, with no path tricks. */
	holds(key: string): boolean {
		return key.startsWith(this.prefix) && SEGMENT.test(key.slice(this.prefix.length));
	}

	async put(key: string, body: ArrayBuffer | string, contentType: string, metadata: Record<string, string> = {}): Promise<void> {
		if (!this.holds(key)) throw new Error(`${key} is outside ${this.prefix}`);
		await this.bucket.put(key, body, { httpMetadata: { contentType }, customMetadata: { ...metadata, ...this.#ownerMetadata() } });
	}

	/** Reads an object of this owner; a key outside the prefix is not even looked up, and an object stamped with another owner is refused. */
	async get(key: string): Promise<ObjectRead> {
		if (!this.holds(key)) return { ok: false, reason: `${key} is outside ${this.prefix}` };
		const object = await this.bucket.get(key);
		if (!object) return { ok: false, reason: `${key} is missing from storage` };
		const stamped = object.customMetadata ?? {};
		for (const [field, value] of Object.entries(this.#ownerMetadata())) {
			if (stamped[field] !== value) return { ok: false, reason: `${key} belongs to another ${field}` };
		}
		return { ok: true, object };
	}

	/** Up to `limit` of this owner's objects whose names start with `namePrefix`, in key order, after the name `after`. */
	async list(namePrefix = "", page: { after?: string; limit?: number } = {}): Promise<{ objects: R2Object[]; truncated: boolean }> {
		// `startAfter` is a key under this prefix, never R2's opaque cursor, so a page can only continue this owner's listing.
		const startAfter = page.after === undefined ? undefined : this.keyOf(page.after);
		const listed = await this.bucket.list({
			prefix: this.prefix + namePrefix,
			limit: page.limit ?? 1000,
			...(startAfter ? { startAfter } : {}),
		});
		return { objects: listed.objects.filter((o) => this.holds(o.key)), truncated: listed.truncated };
	}

	/** Deletes every object of this owner whose name starts with `namePrefix` (all of them for ""); answers how many went. */
	async deleteAll(namePrefix = ""): Promise<number> {
		let deleted = 0;
		for (;;) {
			const page = await this.bucket.list({ prefix: this.prefix + namePrefix, limit: 1000 });
			const keys = page.objects.map((o) => o.key).filter((key) => this.holds(key));
			if (keys.length === 0) return deleted;
			await this.bucket.delete(keys);
			deleted += keys.length;
		}
	}

	/**
	 * Deletes every object under this owner's prefix, nested ones included (a camera's frames under its org's
	 * `frames/<org>/<camera>/`): for deleting the whole owner. Listing by the prefix cannot reach outside it.
	 */
	async deleteTree(): Promise<number> {
		let deleted = 0;
		for (;;) {
			const page = await this.bucket.list({ prefix: this.prefix, limit: 1000 });
			const keys = page.objects.map((o) => o.key).filter((key) => key.startsWith(this.prefix));
			if (keys.length === 0) return deleted;
			await this.bucket.delete(keys);
			deleted += keys.length;
		}
	}

	/** Deletes every object of this owner whose name sorts before `name` (frame names start with their time); answers how many went. */
	async deleteBefore(name: string): Promise<number> {
		let deleted = 0;
		let cursor: string | undefined;
		for (;;) {
			const page = await this.bucket.list({ prefix: this.prefix, limit: 1000, ...(cursor ? { cursor } : {}) });
			const keys = page.objects.map((o) => o.key).filter((key) => this.holds(key) && key.slice(this.prefix.length) < name);
			if (keys.length > 0) await this.bucket.delete(keys);
			deleted += keys.length;
			if (!page.truncated || keys.length < page.objects.length) return deleted;
			cursor = page.cursor;
		}
	}

	#ownerMetadata(): Record<string, string> {
		return { org: this.owner.org, ...(this.owner.camera === undefined ? {} : { camera: this.owner.camera }) };
	}
}

/** A camera's frames: `frames/<org>/<camera>/`. */
export const cameraFrames = (bucket: R2Bucket, org: string, camera: string) => new OrgObjects(bucket, "frames", { org, camera });

/** An org's archived interactions: `interactions/<org>/`. */
export const interactionArchive = (bucket: R2Bucket, org: string) => new OrgObjects(bucket, "interactions", { org });

/** Logs of erased actors archived by retention (`archiveSessions`): `logs/<org>/<kind>:<id>.ndjson`. */
export const actorLogArchive = (bucket: R2Bucket, org: string) => new OrgObjects(bucket, "logs", { org });
export const actorLogName = (kind: string, id: string) => `${kind}:${id}.ndjson`;

/** Every R2 prefix an org owns, in its bucket: what deleting the org empties. */
export const orgPrefixes = (env: { FRAMES: R2Bucket; ARCHIVE: R2Bucket }, org: string): OrgObjects[] => [
	new OrgObjects(env.FRAMES, "frames", { org }),
	interactionArchive(env.ARCHIVE, org),
	actorLogArchive(env.ARCHIVE, org),
	new OrgObjects(env.ARCHIVE, "segments", { org }),
];

/** `<ISO time>-<frame id>.<jpg|png>`: listing a camera's prefix lists its frames in time order. */
export function frameName(ts: number, frameId: string, contentType: ImageContentType): string {
	return `${new Date(ts).toISOString()}-${frameId}.${formatOf(contentType) === "png" ? "png" : "jpg"}`;
}

/** The start of every archived interaction name of one actor (their ids begin `<kind>:<id>:`, as `session:<id>:visit-1`). */
export const actorInteractionsPrefix = (kind: string, id: string) => encodeURIComponent(`${kind}:${id}:`);

/** `<interaction id>.json`, encoded so the id's `:` and `/` stay one segment; a redelivery overwrites the same object. */
export const interactionName = (interactionId: string) => `${encodeURIComponent(interactionId)}.json`;

/** An org's compacted log segments: `segments/<org>/`, one object per segment of one actor's log. */
export const logSegments = (bucket: R2Bucket, org: string) => new OrgObjects(bucket, "segments", { org });

/** `<kind>:<id>:<fromSeq>-<toSeq>.ndjson`: one actor's events fromSeq..toSeq; a re-run writes the same object. */
export const segmentName = (kind: string, id: string, fromSeq: number, toSeq: number) =>
	`${segmentsFrom(kind, id, fromSeq)}${toSeq}.ndjson`;

/** The start of the names of an actor's segments beginning at `fromSeq`, whatever seq they end at. */
export const segmentsFrom = (kind: string, id: string, fromSeq: number) => `${encodeURIComponent(`${kind}:${id}`)}:${fromSeq}-`;

/** A segment's name as the API shows it (`<kind>:<id>:<fromSeq>-<toSeq>.ndjson`, not encoded); the seqs are read from the right, so an id may hold `:`. */
export const SEGMENT_NAME = /^([a-z]+):([^/]+):(\d{1,15})-(\d{1,15})\.ndjson$/;

export interface SegmentRef {
	name: string;
	actor: { kind: string; id: string };
	fromSeq: number;
	toSeq: number;
}

/** The segment an API name means, or null; its stored name is `segmentName` of the same parts, so each name has one object. */
export function segmentOf(name: string): SegmentRef | null {
	const match = SEGMENT_NAME.exec(name);
	if (!match?.[1] || !match[2] || !match[3] || !match[4]) return null;
	return { name, actor: { kind: match[1], id: match[2] }, fromSeq: Number(match[3]), toSeq: Number(match[4]) };
}

/** The API name of a stored segment name (the part of its key after `segments/<org>/`), or null for one Roost did not write. */
export function segmentApiName(stored: string): string | null {
	let name: string;
	try {
		name = decodeURIComponent(stored);
	} catch {
		return null;
	}
	const ref = segmentOf(name);
	return ref && segmentName(ref.actor.kind, ref.actor.id, ref.fromSeq, ref.toSeq) === stored ? name : null;
}
