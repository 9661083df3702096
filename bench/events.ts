// The SDK-shaped events every bench case sends: used inside the bench Worker (bundled) and by the Node scripts
// (bench/common.mjs; Node 24 runs this file by type stripping).
import { sessionCatalog } from "../src/events/session.ts";

/** One event as the SDK sends it. */
export interface ClientEvent {
	id: string;
	type: string;
	ts: number;
	data: Record<string, unknown>;
}

export const BASE_TS = 1_700_000_000_000;

/** The SDK's mix: page views over a dozen pages, clicks and custom events, 80 to 110 bytes of data each. */
export function clientEvent(prefix: string, i: number): ClientEvent {
	const id = `${prefix}-${i}`;
	const ts = BASE_TS + i * 250;
	const page = `/products/${i % 12}`;
	switch (i % 3) {
		case 0:
			return { id, type: "session.page_viewed", ts, data: { url: `https://shop.example${page}?ref=bench`, path: page, title: "Product" } };
		case 1:
			return { id, type: "session.clicked", ts, data: { target: "main > div.product > button.add", text: "Add to cart", x: 412, y: 630 } };
		default:
			return { id, type: "session.custom", ts, data: { name: "add_to_cart", props: { sku: `SKU-${i % 40}`, qty: 1 } } };
	}
}

/** The version the kernel stores an SDK event at: the SDK sends none, so the type's current one (page views: 2). */
export function storedVersion(type: string): number {
	return sessionCatalog.get(type)?.version ?? 1;
}
