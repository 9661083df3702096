import { cameraCatalog } from "../events/camera.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import type { ActorDefinition } from "./definition.ts";

/** Placeholder state until frame ingest lands: the camera actor exists and its log is readable. */
export type CameraState = Record<string, never>;

export const cameraDefinition: ActorDefinition<CameraState> = {
	kind: "camera",
	catalog: cameraCatalog,
	reducerVersion: 1,
	initialState: () => ({}),
	evolve: (_state, event: RecordedEvent) => {
		throw new Error(`camera has no reducer for ${event.type}`);
	},
};
