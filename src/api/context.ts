import type { RequestIdVariables } from "hono/request-id";
import type { Env } from "../env.ts";

export type AppEnv = { Bindings: Env; Variables: RequestIdVariables };
