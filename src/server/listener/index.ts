export { LISTENER_DEFAULTS } from "./defaults.js";
export { listenOnePort } from "./listen-one-port.js";
export { listenerLimits } from "./options-from-config.js";
export type {
  Http2StreamTaker,
  ListenOptions,
  OnePortServer,
  RequestHandler,
  UpgradeTaker,
} from "./types.js";
