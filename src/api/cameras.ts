/** Camera frame ingest: one JPEG or PNG per request, checked against its bytes before anything is stored. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { cameraFrames } from "../actors/org-objects.ts";
import { actorName } from "../core/identity.ts";
import { FRAME_ID_PATTERN } from "../events/camera.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { ApiError, invalidInput, unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { IMAGE_CONTENT_TYPES, imageContentType, inspectImage } from "../vision/image-format.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

/** One frame: 5 MiB is a high-quality 4K JPEG. */
export const MAX_FRAME_BYTES = 5 * 1_048_576;
/** How far ahead of the server's clock a frame's own time may be (camera clocks drift). */
export const MAX_FRAME_TS_AHEAD_MS = 60 * 60_000;

const frameHeaders = z.object({
	"content-type": z
		.string({ error: "is required: image/jpeg or image/png" })
		.refine((value) => imageContentType(value) !== null, { message: "must be image/jpeg or image/png" })
		.openapi({ description: "image/jpeg or image/png; checked against the bytes' magic number." }),
	"x-frame-ts": z
		.string()
		.regex(/^\d{1,15}$/, "must be the frame's time in milliseconds since the epoch")
		.optional()
		.openapi({ description: "The frame's own time (ms since the epoch); default: when the server received it." }),
	"x-frame-id": z
		.string()
		.regex(FRAME_ID_PATTERN, "must be 1-128 letters, digits or . _ : - (a UUIDv7 fits)")
		.optional()
		.openapi({ description: "The uploader's id for the frame: a retried upload with the same id is stored once." }),
});

const frameAccepted = z
	.object({
		frameId: z.string(),
		version: z.number().int(),
		key: z.string().optional().openapi({ description: "Where the frame is stored (FRAMES bucket); absent on a duplicate." }),
		duplicate: z.boolean(),
	})
	.openapi("FrameAccepted");

const imageBody = z.string().openapi({ type: "string", format: "binary" });

export function cameraRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/cameras/{id}/frames",
			tags: ["cameras"],
			summary: "Upload one camera frame (JPEG or PNG); it is stored, recorded, then analysed",
			security: ORG_KEY,
			middleware: [limitBody(MAX_FRAME_BYTES)] as const,
			request: {
				params: z.object({
					org: id.openapi({ param: { name: "org", in: "path" } }),
					id: id.openapi({ param: { name: "id", in: "path" } }),
				}),
				headers: frameHeaders,
				body: {
					required: true,
					content: Object.fromEntries(IMAGE_CONTENT_TYPES.map((type) => [type, { schema: imageBody }])),
				},
			},
			responses: {
				202: json(frameAccepted, "Stored and recorded; the analysis follows as camera.frame_analyzed"),
				...problems(400, 401, 403, 404, 413, 429),
			},
		}),
		async (c) => {
			const { org, id: camera } = c.req.valid("param");
			const headers = c.req.valid("header");
			const contentType = imageContentType(headers["content-type"]);
			if (!contentType) throw invalidInput([{ path: "header.content-type", message: "must be image/jpeg or image/png" }]);
			const ts = headers["x-frame-ts"] === undefined ? undefined : Number(headers["x-frame-ts"]);
			if (ts !== undefined && ts > Date.now() + MAX_FRAME_TS_AHEAD_MS) {
				throw invalidInput([{ path: "header.x-frame-ts", message: "is more than an hour ahead of the server's clock" }]);
			}
			const bytes = await c.req.arrayBuffer();
			const inspected = inspectImage(new Uint8Array(bytes), contentType);
			if (!inspected.ok) throw invalidInput([{ path: "body", message: `the image ${inspected.message}` }]);
			const { width, height } = inspected.info;
			const outcome = await c.env.CAMERA.getByName(actorName(org, camera)).ingestFrame(
				{
					bytes,
					contentType,
					width,
					height,
					...(headers["x-frame-id"] ? { frameId: headers["x-frame-id"] } : {}),
					...(ts === undefined ? {} : { ts }),
				},
				requestMeta(c),
			);
			return c.json(unwrap(outcome), 202);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/cameras/{id}/frames/{frameId}",
			tags: ["cameras"],
			summary: "The stored image of one frame",
			security: ORG_KEY,
			request: {
				params: z.object({
					org: id.openapi({ param: { name: "org", in: "path" } }),
					id: id.openapi({ param: { name: "id", in: "path" } }),
					frameId: z
						.string()
						.regex(FRAME_ID_PATTERN)
						.openapi({ param: { name: "frameId", in: "path" } }),
				}),
			},
			responses: {
				200: {
					description: "The image bytes, as uploaded",
					content: { "image/jpeg": { schema: z.string() }, "image/png": { schema: z.string() } },
				},
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org, id: camera, frameId } = c.req.valid("param");
			// The camera's own log says where the frame is: a frame id of another camera or org finds nothing.
			const received = (await c.env.CAMERA.getByName(actorName(org, camera)).eventById(`${frameId}:received`)) as {
				data: { key: string; contentType: string };
			} | null;
			// The key in the log is not trusted (an import can write any): only this camera's own objects are served.
			const read = received ? await cameraFrames(c.env.FRAMES, org, camera).get(received.data.key) : null;
			if (!received || !read?.ok) throw new ApiError(404, "Not found", `Camera ${camera} has no stored frame ${frameId}.`);
			return new Response(read.object.body, {
				headers: {
					"content-type": received.data.contentType,
					"cache-control": "private, max-age=86400, immutable",
					"x-request-id": c.get("requestId"),
				},
			});
		},
	);
	return app;
}
