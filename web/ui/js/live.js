// @ts-check
// The app's one live-events connection (shared by the run page and the editor overlay).
import { accessToken } from "./api.js";
import { LiveEvents } from "./events.js";

export const live = new LiveEvents(accessToken);
