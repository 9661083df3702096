/** The org's erasure decisions, given / when / then: a request records counts only, each step counts once, done after the last. */
import { describe, expect, it } from "vitest";
import type { ProposedEvent } from "../../src/events/envelope.ts";
import { decideOrg, orgDefinition } from "../../src/reducers/org.ts";
import { deciderSpec } from "../support/decider-spec.ts";

const spec = deciderSpec(orgDefinition, decideOrg, () => ({ newId: () => "id" }));
const T = 1_900_000_000_000;
const E = "01900000-0000-7000-8000-000000000001";

const created: ProposedEvent = { id: "c", type: "org.created", ts: T, data: { name: "Acme" } };
const requested = (actors: number, keys: number): ProposedEvent => ({
	id: `erasure:${E}`,
	type: "org.erasure_requested",
	ts: T + 1,
	data: { erasure: E, subject: "user", actors, keys, requestedBy: "key_1" },
});
const step = (n: number, part: "actor" | "key", ts = T + 2): ProposedEvent => ({
	id: `erasure:${E}:step-${n}`,
	type: "org.erasure_step_done",
	ts,
	data: {
		erasure: E,
		step: n,
		part,
		objects: part === "actor" ? 1 : 0,
		keys: part === "key" ? 2 : 0,
		bytesLeft: part === "actor" ? 4096 : 0,
	},
});
const stepCommand = (n: number, part: "actor" | "key") => ({
	kind: "record_erasure_step" as const,
	...(step(n, part).data as { erasure: string; step: number; part: "actor" | "key"; objects: number; keys: number; bytesLeft: number }),
});

describe("erasure decisions", () => {
	it("a request records who asked, what kind and counts, and nothing of the subject", () => {
		spec
			.given(created)
			.when({ kind: "request_erasure", erasure: E, subject: "user", actors: 2, keys: 2, requestedBy: "key_1" }, { now: T + 1 })
			.thenDecides([requested(2, 2)]);
	});

	it("a request of an org that does not exist is refused", () => {
		spec
			.given()
			.when({ kind: "request_erasure", erasure: E, subject: "session", actors: 1, keys: 0, requestedBy: null })
			.thenRefuses("not_found");
	});

	it("an erasure is pending, then running after its first step, then done after its last (the keys count as one step)", () => {
		const erasure = (events: ProposedEvent[]) => spec.given(created, ...events).state.erasures[E];
		expect(erasure([requested(2, 2)])).toMatchObject({ status: "pending", doneAt: null });
		expect(erasure([requested(2, 2), step(2, "key")])).toMatchObject({ status: "running", counts: { keysShredded: 2 } });
		expect(erasure([requested(2, 2), step(2, "key"), step(0, "actor"), step(1, "actor", T + 9)])).toMatchObject({
			status: "done",
			doneAt: T + 9,
			counts: { actors: 2, keys: 2, actorsErased: 2, keysShredded: 2, objectsDeleted: 2, bytesLeft: 8192 },
		});
	});

	it("an erasure with nothing to erase is done at once", () => {
		expect(spec.given(created, requested(0, 0)).state.erasures[E]).toMatchObject({ status: "done", doneAt: T + 1 });
	});

	it("a step reported twice is decided once", () => {
		spec.given(created, requested(2, 0), step(0, "actor")).when(stepCommand(0, "actor")).thenDecides([]);
	});

	it("a step of an unknown erasure, or past its last step, is refused", () => {
		spec.given(created).when(stepCommand(0, "actor")).thenRefuses("not_found");
		spec.given(created, requested(1, 0)).when(stepCommand(1, "actor")).thenRefuses("rejected");
	});
});

describe("subject access export decisions", () => {
	const exported: ProposedEvent = {
		id: `subject-export:${E}`,
		type: "org.subject_exported",
		ts: T + 1,
		data: { export: E, sessions: 3, requestedBy: "key_1" },
	};

	it("an export is recorded with who asked and how many sessions, nothing of the subject, and changes no state", () => {
		spec
			.given(created)
			.when({ kind: "record_subject_export", export: E, sessions: 3, requestedBy: "key_1" }, { now: T + 1 })
			.thenDecides([exported]);
		expect(spec.given(created, exported).state).toEqual(spec.given(created).state);
	});

	it("an export of an org that does not exist is refused", () => {
		spec.given().when({ kind: "record_subject_export", export: E, sessions: 0, requestedBy: null }).thenRefuses("not_found");
	});
});
