/** What the org shows: its profile, audit entries and recorded interactions, and its rollups, patterns and reports (built from state). */

import type { Principal } from "../events/envelope.ts";
import type { Interaction, Summary } from "../events/interaction.ts";
import { orgCatalog } from "../events/org.ts";
import { eventOfType } from "../events/stored.ts";
import type { Finding, RollupRecord } from "../patterns/detect.ts";
import { describeMetrics, type MetricsView } from "../patterns/metrics.ts";
import { type Period, type PeriodOrAll, type Window, windowLabel } from "../patterns/windows.ts";
import { type KeyView, keyView, type OrgState } from "../reducers/org.ts";
import type { ReportRecord } from "../reducers/org-rollups.ts";
import type { EventPage } from "./kernel/types.ts";
import { opened } from "./org-erasures.ts";
import type { SubjectKeys } from "./subject-keys.ts";

export interface RollupView extends Window {
	period: PeriodOrAll;
	label: string;
	metrics: MetricsView;
}

export interface RollupRun {
	period: Period;
	window: Window;
	/** True when the window was already rolled up: nothing was appended. */
	duplicate: boolean;
	rollup: RollupView | null;
}

export interface PatternsView {
	period: PeriodOrAll;
	rollups: RollupView[];
	patterns: Finding[];
	reports: ReportRecord[];
}

export function rollupView(record: RollupRecord): RollupView {
	return {
		period: record.period,
		start: record.start,
		end: record.end,
		label: windowLabel(record.period, record),
		metrics: describeMetrics(record.metrics),
	};
}

/** Rollups of one period (newest first), the patterns found in them and the reports written on them; `all` is all time. */
export function patternsView(state: OrgState, query: { period: PeriodOrAll; limit?: number }): PatternsView {
	const limit = Math.min(Math.max(1, query.limit ?? 24), 200);
	const { rollups, createdAt } = state;
	if (query.period === "all") {
		const through = rollups.through.daily;
		const rollup =
			createdAt === null || through === null
				? []
				: [{ period: "all" as const, start: createdAt, end: through, label: "all time", metrics: describeMetrics(rollups.all) }];
		return {
			period: "all",
			rollups: rollup,
			patterns: rollups.patterns.slice(-limit).reverse(),
			reports: rollups.reports.slice(-limit).reverse(),
		};
	}
	const period = query.period;
	return {
		period,
		rollups: rollups.recent[period].slice(-limit).reverse().map(rollupView),
		patterns: rollups.patterns
			.filter((f) => f.period === period)
			.slice(-limit)
			.reverse(),
		reports: rollups.reports
			.filter((r) => r.period === period)
			.slice(-limit)
			.reverse(),
	};
}

/** An interaction as the org recorded it: where it sits in the org's log, and when it arrived. */
export interface RecordedInteraction extends Omit<Interaction, "summary"> {
	seq: number;
	recordedAt: number;
	summary: Summary;
}

export interface OrgProfile {
	id: string;
	name: string;
	createdAt: number;
}

/** One access or policy change, as the audit trail lists it: what happened, when, and who made it. */
export interface AuditEntry {
	seq: number;
	id: string;
	type: string;
	ts: number;
	/** The key or member that acted; null for changes made with the admin token or by the system. */
	principal: Principal | null;
	requestId: string | null;
	/** The event's data, redacted as every read of the org's log is (no key hashes). */
	data: unknown;
}

/** What GET /v1/orgs/:org shows: the profile, the keys without their hashes, and the log version. */
export interface OrgView {
	org: OrgProfile;
	keys: KeyView[];
	version: number;
}

/** A page of audited org events as the audit trail lists them. */
export function auditPage(page: EventPage): { entries: AuditEntry[]; next: number | null } {
	return {
		entries: page.events.map((e) => ({
			seq: e.seq,
			id: e.id,
			type: e.type,
			ts: e.ts,
			principal: e.meta.principal ?? null,
			requestId: e.meta.requestId ?? null,
			data: e.data,
		})),
		next: page.next,
	};
}

/** A camera as the org lists it: its last known status and since when. */
export interface CameraListing {
	camera: string;
	status: "online" | "offline";
	since: number;
}

/** The org's cameras, most recently changed first. */
export function cameraList(state: OrgState): CameraListing[] {
	return Object.entries(state.cameras)
		.map(([camera, entry]) => ({ camera, ...entry }))
		.sort((a, b) => b.since - a.since || a.camera.localeCompare(b.camera));
}

/** A page of `org.interaction_recorded` events as GET .../interactions lists them, user ids opened (or null once erased). */
export function recordedInteractions(page: EventPage, subjects: SubjectKeys): { interactions: RecordedInteraction[]; next: number | null } {
	const events = page.events.map((event) => eventOfType(event, orgCatalog, "org.interaction_recorded"));
	const keys = subjects.opener(events.map((event) => event.data.summary.userId));
	return {
		interactions: events.map((event) => {
			const interaction = opened(event.data, keys);
			return { ...interaction, summary: interaction.summary as Summary, seq: event.seq, recordedAt: event.ts };
		}),
		next: page.next,
	};
}

/** The view of one of the org's keys, which must exist (an answer of the command that just made or changed it). */
export function keyOf(state: OrgState, keyId: string): KeyView {
	const key = state.keys[keyId];
	if (!key) throw new Error(`no key ${keyId}`);
	return keyView(keyId, key);
}
