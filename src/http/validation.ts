import type { Hook } from "@hono/zod-openapi";
import { fieldErrors, invalidInput } from "./problem.ts";

/** Every zod validation failure becomes a 400 whose errors name each field. */
// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every shape.
export const validationHook: Hook<any, any, any, any> = (result) => {
	if (!result.success) throw invalidInput(fieldErrors(result.error, result.target));
};
