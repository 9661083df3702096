/**
 * What an org's erasures mean: each is a number of steps (actors to clear, subject keys to shred), pending until
 * its first step is done, running until its last, then done. Pure: ids and time come in on the command and context.
 */
import type { DataOf } from "../events/catalog.ts";
import { type ErasureSubject, erasureSteps } from "../events/erasure.ts";
import type { orgCatalog } from "../events/org.ts";
import type { DecideContext, Refusal } from "./definition.ts";

export type ErasureStatus = "pending" | "running" | "done";

export interface Erasure {
	id: string;
	subject: ErasureSubject;
	requestedAt: number;
	requestedBy: string | null;
	status: ErasureStatus;
	/** Steps planned and done; steps done by index, so a step reported twice counts once. */
	counts: { actors: number; keys: number; actorsErased: number; keysShredded: number; objectsDeleted: number; bytesLeft: number };
	stepsDone: number[];
	doneAt: number | null;
}

export type Erasures = Record<string, Erasure>;

type Requested = DataOf<typeof orgCatalog, "org.erasure_requested">;
type StepDone = DataOf<typeof orgCatalog, "org.erasure_step_done">;
type Exported = DataOf<typeof orgCatalog, "org.subject_exported">;

export type ErasureCommand =
	| { kind: "request_erasure"; erasure: string; subject: ErasureSubject; actors: number; keys: number; requestedBy: string | null }
	| ({ kind: "record_erasure_step" } & StepDone)
	/** A subject access export: recorded for the audit trail, it changes no state. */
	| ({ kind: "record_subject_export" } & Exported);

type ErasureProposal =
	| { id: string; type: "org.erasure_requested"; ts: number; data: Requested }
	| { id: string; type: "org.erasure_step_done"; ts: number; data: StepDone }
	| { id: string; type: "org.subject_exported"; ts: number; data: Exported };

export function decideErasure(command: ErasureCommand, erasures: Erasures, context: DecideContext): ErasureProposal[] | Refusal {
	switch (command.kind) {
		case "request_erasure": {
			const { kind: _kind, ...data } = command;
			if (Object.hasOwn(erasures, data.erasure)) return [];
			return [{ id: `erasure:${data.erasure}`, type: "org.erasure_requested", ts: context.now, data }];
		}
		case "record_erasure_step": {
			const { kind: _kind, ...data } = command;
			const erasure = Object.hasOwn(erasures, data.erasure) ? erasures[data.erasure] : undefined;
			if (!erasure) return { kind: "not_found", detail: `no erasure ${data.erasure}` };
			const total = erasureSteps(erasure.counts.actors, erasure.counts.keys);
			if (data.step >= total) return { kind: "rejected", detail: `erasure ${data.erasure} has no step ${data.step}` };
			if (erasure.stepsDone.includes(data.step)) return [];
			return [{ id: `erasure:${data.erasure}:step-${data.step}`, type: "org.erasure_step_done", ts: context.now, data }];
		}
		case "record_subject_export": {
			const { kind: _kind, ...data } = command;
			return [{ id: `subject-export:${data.export}`, type: "org.subject_exported", ts: context.now, data }];
		}
	}
}

export function requestErasure(erasures: Erasures, data: Requested, ts: number): Erasures {
	const { erasure: id, subject, requestedBy, actors, keys } = data;
	const steps = erasureSteps(actors, keys);
	const erasure: Erasure = {
		id,
		subject,
		requestedAt: ts,
		requestedBy,
		status: steps === 0 ? "done" : "pending",
		counts: { actors, keys, actorsErased: 0, keysShredded: 0, objectsDeleted: 0, bytesLeft: 0 },
		stepsDone: [],
		doneAt: steps === 0 ? ts : null,
	};
	return { ...erasures, [id]: erasure };
}

export function recordErasureStep(erasures: Erasures, data: StepDone, ts: number): Erasures {
	const erasure = Object.hasOwn(erasures, data.erasure) ? erasures[data.erasure] : undefined;
	if (!erasure) throw new Error(`no erasure ${data.erasure}`);
	if (erasure.stepsDone.includes(data.step)) return erasures;
	const c = erasure.counts;
	const counts = {
		...c,
		actorsErased: c.actorsErased + (data.part === "actor" ? 1 : 0),
		keysShredded: c.keysShredded + data.keys,
		objectsDeleted: c.objectsDeleted + data.objects,
		bytesLeft: c.bytesLeft + data.bytesLeft,
	};
	const stepsDone = [...erasure.stepsDone, data.step].sort((a, b) => a - b);
	const done = stepsDone.length === erasureSteps(c.actors, c.keys);
	return { ...erasures, [data.erasure]: { ...erasure, counts, stepsDone, status: done ? "done" : "running", doneAt: done ? ts : null } };
}

/** An erasure as GET /v1/orgs/:org/erasures/:id shows it. */
export type ErasureView = Omit<Erasure, "stepsDone">;

export function erasureView(erasure: Erasure): ErasureView {
	const { stepsDone: _steps, ...view } = erasure;
	return view;
}
