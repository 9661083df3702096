/**
 * How a CLI run ends, as exit codes a script can branch on:
 *   0  done, and every check passed
 *   1  a check found a problem: a broken chain, a replay that disagrees, a file that is not this actor's log
 *   2  the command was called wrongly (unknown command or option, missing key)
 *   3  the server refused the request: its problem+json detail is printed
 *   4  the server could not be reached, or a file could not be read or written
 *   5  an unexpected error: a bug in roost (the stack is printed)
 */
export const EXIT = { ok: 0, problemFound: 1, usage: 2, refused: 3, unreachable: 4, internal: 5 } as const;

/** A mistake in how the CLI was called: printed with a pointer to --help. */
export class UsageError extends Error {}

/** A check that ran and failed (the report has been printed; the message sums it up). */
export class CheckFailed extends Error {}
