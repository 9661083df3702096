/** The debug checks' reports, as the API answers them; no imports, so the console (web/) shares them. */

export interface ChainReport {
	ok: boolean;
	version: number;
	headHash: string;
	brokenAt?: number;
	reason?: string;
	/** When the log was compacted: the last compacted seq and its hash, where the stored chain starts (and the segments end). */
	checkpoint?: { seq: number; hash: string };
}

export interface ReplayReport {
	version: number;
	/** The reducer version this code has, as `<kind>@<n>`. */
	reducerVersion: string;
	checked: number;
	snapshots: number;
	/** Where the replayed state differs: at which version, from what, and the JSON delta (jsondiffpatch format). */
	mismatches: { version: number; against: string; delta: unknown }[];
	ok: boolean;
}
