/**
 * Health of an org's actors (docs/operations.md): one actor's own figures, and per kind across the actors the org
 * follows (its active sessions, its cameras and the chats it has heard from, at most MAX_PROBED_PER_KIND of each
 * asked), with the status the thresholds in src/core/health.ts give.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { type ActorHealth, HEALTH_THRESHOLDS, type KindHealth, kindHealth } from "../core/health.ts";
import { actorName } from "../core/identity.ts";
import type { AppEnv } from "../http/context.ts";
import { validationHook } from "../http/validation.ts";
import { actorStub, id, kindOfSegment, kindParam } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

/** Actors of one kind asked for their figures per report: bounded, so a report costs at most this many RPCs per kind. */
export const MAX_PROBED_PER_KIND = 50;

const actorHealthSchema = z
	.object({
		version: z.number().int(),
		outbox: z.object({ pending: z.number().int(), oldestAgeMs: z.number().int().nullable(), parked: z.number().int() }),
		timers: z.object({ live: z.number().int(), overdue: z.number().int(), parked: z.number().int() }),
		sockets: z.number().int(),
		snapshotLagEvents: z.number().int().nullable(),
		storageBytes: z.number().int(),
	})
	.openapi("ActorHealth");
const status = z.enum(["ok", "amber", "red"]);
const kindHealthSchema = z
	.object({
		followed: z.number().int(),
		probed: z.number().int(),
		outboxPending: z.number().int(),
		oldestUndeliveredAgeMs: z.number().int().nullable(),
		overdueTimers: z.number().int(),
		parked: z.number().int(),
		sockets: z.number().int(),
		snapshotLagEvents: z.number().int().nullable(),
		storageBytes: z.number().int(),
		status,
	})
	.openapi("KindHealth");
const orgHealthSchema = z
	.object({
		status,
		kinds: z.record(z.string(), kindHealthSchema),
		thresholds: z.record(z.string(), z.object({ amber: z.number(), red: z.number() })),
	})
	.openapi("OrgHealth");

const orgParam = id.openapi({ param: { name: "org", in: "path" } });

export function orgHealthRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/health",
			tags: ["operations"],
			summary: "Health of the org's actors per kind: outbox, overdue timers, parked work, sockets, snapshots, storage",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam }) },
			responses: { 200: json(orgHealthSchema, "Figures per kind, each with its status"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const orgStub = c.env.ORG.getByName(actorName(org, org));
			const [own, parked, sessions, cameras, chats] = await Promise.all([
				orgStub.health(),
				orgStub.parkedByKind(),
				orgStub.listSessions({ status: "active", limit: MAX_PROBED_PER_KIND }),
				orgStub.listCameras(),
				orgStub.recentChats(MAX_PROBED_PER_KIND),
			]);
			const probe = async (kind: string, ids: string[]): Promise<ActorHealth[]> => {
				const answers = await Promise.allSettled(
					ids.slice(0, MAX_PROBED_PER_KIND).map((actorId) => actorStub(c.env, kind, org, actorId).health()),
				);
				return answers.flatMap((answer) => (answer.status === "fulfilled" ? [answer.value as ActorHealth] : []));
			};
			const kinds: Record<string, KindHealth> = {
				org: kindHealth(1, [own as ActorHealth], parked.org ?? 0),
				session: kindHealth(
					sessions.active,
					await probe(
						"session",
						sessions.sessions.map((s) => s.session),
					),
					parked.session ?? 0,
				),
				camera: kindHealth(
					cameras.cameras.length,
					await probe(
						"camera",
						cameras.cameras.map((cam) => cam.camera),
					),
					parked.camera ?? 0,
				),
				chat: kindHealth(chats.chats.length, await probe("chat", chats.chats), parked.chat ?? 0),
			};
			for (const [kind, n] of Object.entries(parked)) kinds[kind] ??= kindHealth(0, [], n);
			const order = ["ok", "amber", "red"] as const;
			const worst = Object.values(kinds).reduce(
				(w, k) => (order.indexOf(k.status) > order.indexOf(w) ? k.status : w),
				"ok" as KindHealth["status"],
			);
			return c.json({ status: worst, kinds, thresholds: HEALTH_THRESHOLDS }, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/{kind}/{id}/health",
			tags: ["operations"],
			summary: "One actor's own health figures",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam, kind: kindParam(), id: id.openapi({ param: { name: "id", in: "path" } }) }) },
			responses: { 200: json(actorHealthSchema, "The actor's figures"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org, kind, id: actorId } = c.req.valid("param");
			return c.json((await actorStub(c.env, kindOfSegment(kind), org, actorId).health()) as ActorHealth, 200);
		},
	);
	return app;
}
