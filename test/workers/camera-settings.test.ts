/**
 * The org's `cameraBatchSeconds` and `cameraOfflineSeconds` (docs/api.md, "Org settings") in the camera actor, with
 * real alarms and a controlled clock: each frame records the settings in force when it arrived, and the batch window
 * and the offline mark follow the frame's own values.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { patternFrame } from "../../src/vision/test-pattern.ts";
import { allEvents, call, createOrg, getJson, type TestOrg, uniqueId } from "./helpers.ts";

// Mocked time well after the real clock, so real alarms never fire on their own during a test.
const T0 = Date.UTC(2031, 7, 1, 9, 0, 0);
const bearer = (org: TestOrg) => ({ authorization: `Bearer ${org.key}` });
const cameraPath = (org: TestOrg, camera: string) => `/v1/orgs/${org.org}/cameras/${camera}`;

async function settings(org: TestOrg, body: Record<string, number>): Promise<void> {
	const res = await call(`/v1/orgs/${org.org}/settings`, { method: "PUT", headers: bearer(org), body: JSON.stringify(body) });
	expect(res.status).toBe(200);
}

async function frameAt(org: TestOrg, camera: string, time: number): Promise<void> {
	vi.setSystemTime(time);
	const res = await call(`${cameraPath(org, camera)}/frames`, {
		method: "POST",
		body: patternFrame("png", { square: { x: 10, y: 10, size: 30 } }),
		headers: { ...bearer(org), "content-type": "image/png", "x-frame-ts": String(time) },
	});
	expect(res.status).toBe(202);
	await runDurableObjectAlarm(env.CAMERA.getByName(actorName(org.org, camera)));
}

async function at(org: TestOrg, camera: string, time: number): Promise<string[]> {
	vi.setSystemTime(time);
	await runDurableObjectAlarm(env.CAMERA.getByName(actorName(org.org, camera)));
	return (await allEvents(cameraPath(org, camera), { headers: bearer(org) })).map((e) => e.type);
}

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

describe("camera settings from the org", () => {
	it("a frame records the org's batch window and offline time; the batch closes and the camera goes offline after them", async () => {
		const org = await createOrg("Camera settings");
		await settings(org, { cameraBatchSeconds: 30, cameraOfflineSeconds: 60 });
		const camera = uniqueId("c");
		await frameAt(org, camera, T0);
		const [received] = (await allEvents(cameraPath(org, camera), { headers: bearer(org) })).filter(
			(e) => e.type === "camera.frame_received",
		);
		expect(received?.data).toMatchObject({ batchMs: 30_000, offlineAfterMs: 60_000 });
		const { kernel } = await getJson<{ kernel: { timers: { name: string; scheduledAt: number }[] } }>(`${cameraPath(org, camera)}/state`, {
			headers: bearer(org),
		});
		expect(kernel.timers).toEqual(
			expect.arrayContaining([
				expect.objectContaining({ name: "batch", scheduledAt: T0 + 30_000 }),
				expect.objectContaining({ name: "heartbeat", scheduledAt: T0 + 60_000 }),
			]),
		);
		expect(await at(org, camera, T0 + 30_000)).toContain("camera.batch_closed");
		expect(await at(org, camera, T0 + 59_999)).not.toContain("camera.offline");
		expect(await at(org, camera, T0 + 60_000)).toContain("camera.offline");
	});

	it("a change applies from the next frame on", async () => {
		const org = await createOrg("Camera settings change");
		const camera = uniqueId("c");
		await frameAt(org, camera, T0);
		await settings(org, { cameraOfflineSeconds: 600 });
		await frameAt(org, camera, T0 + 10_000);
		const received = (await allEvents(cameraPath(org, camera), { headers: bearer(org) })).filter((e) => e.type === "camera.frame_received");
		expect(received.map((e) => (e.data as { offlineAfterMs: number }).offlineAfterMs)).toEqual([300_000, 600_000]);
		expect(await at(org, camera, T0 + 10_000 + 300_000)).not.toContain("camera.offline");
		expect(await at(org, camera, T0 + 10_000 + 600_000)).toContain("camera.offline");
	});
});
