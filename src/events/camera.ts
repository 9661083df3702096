/** What can happen to a CCTV camera. Frame ingest and analysis events arrive with the camera actor's issue. */
import { EventCatalog } from "./catalog.ts";

export const cameraCatalog = new EventCatalog([]);
