/**
 * Roost's own metrics as Workers Analytics Engine data points (docs/operations.md has the SQL API queries). Each
 * point's `index1` is the org (sampling keys on it), `blob1` the kind of point, and the doubles its figures, in the
 * order listed per function. Without the `METRICS` binding (local dev, tests) every write is a no-op.
 */

/** What writes points: the Analytics Engine binding's shape. */
export interface PointSink {
	writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void;
}

export interface Metrics {
	/** blobs: "request", route pattern, method, status class; doubles: status, ms. */
	request(org: string | undefined, route: string, method: string, status: number, ms: number): void;
	/** blobs: "append", kind; doubles: events appended, ms. */
	append(org: string, kind: string, events: number, ms: number): void;
	/** blobs: "alarm", kind; doubles: lateness ms (now minus when it was due), work done (timers fired + messages sent). */
	alarm(org: string, kind: string, latenessMs: number, work: number): void;
	/** blobs: "model", provider, outcome; doubles: tokens, first-token ms, total ms. */
	model(org: string, provider: string, outcome: string, tokens: number, firstTokenMs: number | null, totalMs: number): void;
}

const point = (sink: PointSink, org: string | undefined, blobs: string[], doubles: number[]) => {
	try {
		sink.writeDataPoint({ indexes: [org ?? "-"], blobs, doubles });
	} catch {
		// Metrics never fail the work they measure.
	}
};

/** The writer for a binding, or the no-op writer when it is absent. */
export function metricsFor(sink: PointSink | undefined): Metrics {
	if (!sink) return NO_METRICS;
	return {
		request: (org, route, method, status, ms) =>
			point(sink, org, ["request", route, method, `${Math.floor(status / 100)}xx`], [status, ms]),
		append: (org, kind, events, ms) => point(sink, org, ["append", kind], [events, ms]),
		alarm: (org, kind, latenessMs, work) => point(sink, org, ["alarm", kind], [latenessMs, work]),
		model: (org, provider, outcome, tokens, firstTokenMs, totalMs) =>
			point(sink, org, ["model", provider, outcome], [tokens, firstTokenMs ?? -1, totalMs]),
	};
}

const nothing = () => {};
export const NO_METRICS: Metrics = { request: nothing, append: nothing, alarm: nothing, model: nothing };
