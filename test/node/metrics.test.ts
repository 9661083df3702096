/** Roost's metrics writer (src/core/metrics.ts, docs/operations.md): the points it writes, and none without a binding. */
import { describe, expect, it } from "vitest";
import { metricsFor, NO_METRICS, type PointSink } from "../../src/core/metrics.ts";

const sink = () => {
	const points: Parameters<PointSink["writeDataPoint"]>[0][] = [];
	return { points, writeDataPoint: (point: (typeof points)[number]) => void points.push(point) };
};

describe("metrics", () => {
	it("writes one point per request, append, alarm and model answer, indexed by org, in the documented layout", () => {
		const s = sink();
		const m = metricsFor(s);
		m.request("acme", "/v1/orgs/:org/parked", "GET", 404, 12);
		m.request(undefined, "(unmatched)", "GET", 401, 1);
		m.append("acme", "session", 3, 2);
		m.alarm("acme", "session", 1500, 4);
		m.model("acme", "mock", "done", 120, 80, 900);
		m.model("acme", "mock", "failed", 0, null, 50);
		expect(s.points).toEqual([
			{ indexes: ["acme"], blobs: ["request", "/v1/orgs/:org/parked", "GET", "4xx"], doubles: [404, 12] },
			{ indexes: ["-"], blobs: ["request", "(unmatched)", "GET", "4xx"], doubles: [401, 1] },
			{ indexes: ["acme"], blobs: ["append", "session"], doubles: [3, 2] },
			{ indexes: ["acme"], blobs: ["alarm", "session"], doubles: [1500, 4] },
			{ indexes: ["acme"], blobs: ["model", "mock", "done"], doubles: [120, 80, 900] },
			{ indexes: ["acme"], blobs: ["model", "mock", "failed"], doubles: [0, -1, 50] },
		]);
	});

	it("is the no-op writer without the binding, and a failing binding never fails the work measured", () => {
		expect(metricsFor(undefined)).toBe(NO_METRICS);
		const broken = metricsFor({
			writeDataPoint: () => {
				throw new Error("dataset unavailable");
			},
		});
		expect(() => broken.append("acme", "org", 1, 0)).not.toThrow();
	});
});
