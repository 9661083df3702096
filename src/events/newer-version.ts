/**
 * An event written at a version newer than this deployment's catalog knows: it was written by a newer release, and
 * this code is older (a `wrangler rollback`, or a gradual deployment that still serves the old version). Upcasters
 * run forward only, so such an event can be neither validated nor folded: the kernel refuses it on append and on
 * read rather than folding data of a shape it does not know (docs/deploy.md).
 */

/** Words every such refusal carries: a thrown error crosses Durable Object RPC as its message only. */
export const NEWER_VERSION_MARK = "written by a newer version of Roost";

export function newerVersionMessage(type: string, v: number, current: number): string {
	return (
		`${type} v${v} was ${NEWER_VERSION_MARK}: this deployment knows up to v${current}. Upcasters run forward only, so ` +
		"it is refused rather than read wrong; deploy the newer version again (docs/deploy.md, rollbacks)."
	);
}

export class NewerEventVersionError extends Error {
	// Plain fields, not parameter properties: the CLI runs this file under Node's type stripping, which refuses those.
	readonly type: string;
	readonly v: number;
	readonly current: number;

	constructor(type: string, v: number, current: number) {
		super(newerVersionMessage(type, v, current));
		this.name = "NewerEventVersionError";
		this.type = type;
		this.v = v;
		this.current = current;
	}
}

/** Whether an error, perhaps one that crossed RPC as a plain Error, is this refusal. */
export function isNewerVersionError(error: unknown): error is Error {
	return error instanceof Error && error.message.includes(NEWER_VERSION_MARK);
}
