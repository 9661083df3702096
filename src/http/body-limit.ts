/** Per-route body size limits: a body over the route's limit is refused with 413 before it is read. */
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./problem.ts";

export function limitBody(maxSize: number) {
	return bodyLimit({
		maxSize,
		onError: () => {
			throw new ApiError(413, "Too large", `The body of this route may be at most ${maxSize} bytes.`);
		},
	});
}
