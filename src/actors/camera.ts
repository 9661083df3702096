import type { Env } from "../env.ts";
import { type CameraState, cameraDefinition } from "../reducers/camera.ts";
import { EventSourcedActor } from "./actor.ts";

export class CameraActor extends EventSourcedActor<CameraState> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, cameraDefinition);
	}
}
