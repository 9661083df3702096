// Ties `cloudflare:workers`' env and exports to Roost's own Env and Worker entry.
import type { Env as RoostEnv } from "../env.ts";

declare global {
	namespace Cloudflare {
		interface Env extends RoostEnv {}
		interface GlobalProps {
			mainModule: typeof import("../index.ts");
			durableNamespaces: "OrgActor" | "SessionActor" | "CameraActor" | "ChatActor" | "RegistryActor";
		}
	}
}
